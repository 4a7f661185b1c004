/** Reading and writing InvocationRecord streams as JSON Lines or CSV, with strict validation. */
export { RECORD_FIELDS, REQUIRED_FIELDS, parseRecordObject, isKnownField, type RecordField } from './schema.js';
export { parseJsonlLine, recordToJsonl } from './jsonl.js';
export { splitCsvLine, parseCsvHeader, parseCsvRow, recordToCsvRow, CSV_HEADER } from './csv.js';
export {
  readInvocationRecords,
  readAllInvocationRecords,
  writeInvocationRecords,
  formatFromPath,
  formatFromLine,
  RECORD_FORMATS,
  type RecordFormat,
  type ReadOptions,
} from './stream.js';
export { readLines, openTraceFile, openError, MAX_TRACE_LINE_CHARS, type Line } from './lines.js';
