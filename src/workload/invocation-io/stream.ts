import { createWriteStream } from 'node:fs';
import { extname } from 'node:path';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { InputError } from '../../core/errors.js';
import type { InvocationRecord } from '../../core/records.js';
import { CSV_HEADER, parseCsvHeader, parseCsvRow, recordToCsvRow } from './csv.js';
import { parseJsonlLine, recordToJsonl } from './jsonl.js';
import { openError, openTraceFile, readLines } from './lines.js';
import type { RecordField } from './schema.js';

export type RecordFormat = 'jsonl' | 'csv';
export const RECORD_FORMATS: readonly (RecordFormat | 'auto')[] = ['auto', 'jsonl', 'csv'];

/** Format from a file name, or undefined when the extension says nothing. */
export function formatFromPath(path: string): RecordFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return undefined;
}

/** Format from the first non-blank line's content. */
export function formatFromLine(line: string, where: string): RecordFormat {
  const t = line.trimStart();
  if (t.startsWith('{')) return 'jsonl';
  if (/^"?funcId"?\s*,|,\s*"?funcId"?\s*(,|$)/.test(t)) return 'csv';
  throw new InputError(where, `unknown format: neither a JSON object line nor a CSV header with a funcId column (starts with ${JSON.stringify(t.slice(0, 30))}); use --format jsonl|csv`);
}

export interface ReadOptions {
  format?: RecordFormat | 'auto';
  /** Name used in error messages when reading a stream (default 'stdin'). */
  label?: string;
}

/**
 * Streams validated records from a file (or `-` / a Readable for stdin), line by line: memory use
 * does not grow with the file, and a line longer than MAX_TRACE_LINE_CHARS is an error. Blank lines are skipped. The first bad line throws InputError
 * naming `file:line` and the problem.
 */
export async function* readInvocationRecords(source: string | Readable, opts: ReadOptions = {}): AsyncGenerator<InvocationRecord> {
  const label = typeof source === 'string' ? (source === '-' ? (opts.label ?? 'stdin') : source) : (opts.label ?? 'stdin');
  let format: RecordFormat | undefined = opts.format && opts.format !== 'auto' ? opts.format : undefined;
  if (!format && typeof source === 'string' && source !== '-') format = formatFromPath(source);
  const input: Readable = typeof source !== 'string' ? source : source === '-' ? process.stdin : await openTraceFile(source);
  let columns: RecordField[] | undefined;
  try {
    for await (const { n, text: line } of readLines(input, label)) {
      if (line.trim() === '') continue;
      const where = `${label}:${n}`;
      if (!format) format = formatFromLine(line, where);
      if (format === 'jsonl') {
        yield parseJsonlLine(line, where);
      } else if (!columns) {
        columns = parseCsvHeader(line, where);
      } else {
        yield parseCsvRow(line, columns, where);
      }
    }
  } finally {
    if (typeof source === 'string' && source !== '-') input.destroy();
  }
}

/** Reads a whole stream into an array (for inputs that fit in memory, e.g. one learning window). */
export async function readAllInvocationRecords(source: string | Readable, opts: ReadOptions = {}): Promise<InvocationRecord[]> {
  const out: InvocationRecord[] = [];
  for await (const r of readInvocationRecords(source, opts)) out.push(r);
  return out;
}

/**
 * Writes records as JSONL or CSV (header first) to a file path, `-` (stdout) or a Writable,
 * honouring back-pressure. Returns how many were written.
 */
export async function writeInvocationRecords(
  target: string | Writable,
  records: Iterable<InvocationRecord> | AsyncIterable<InvocationRecord>,
  format: RecordFormat,
): Promise<number> {
  const out: Writable = typeof target !== 'string' ? target : target === '-' ? process.stdout : createWriteStream(target);
  if (typeof target === 'string' && target !== '-') {
    try {
      await once(out, 'open');
    } catch (err) {
      throw openError(target, err, 'cannot write');
    }
  }
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let n = 0;
  if (format === 'csv') await write(`${CSV_HEADER}\n`);
  for await (const r of records) {
    await write(`${format === 'csv' ? recordToCsvRow(r) : recordToJsonl(r)}\n`);
    n++;
  }
  if (typeof target === 'string' && target !== '-') {
    out.end();
    await once(out, 'finish');
  }
  return n;
}
