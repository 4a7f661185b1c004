import { InputError } from '../../core/errors.js';
import type { InvocationRecord } from '../../core/records.js';
import { isKnownField, parseRecordObject, RECORD_FIELDS, REQUIRED_FIELDS, type RecordField } from './schema.js';

/**
 * CSV with a header row naming RECORD_FIELDS columns (any order, any subset that includes the
 * required ones). Cells are RFC 4180: optionally double-quoted, `""` inside quotes is a quote.
 * Records are one line each (a quoted newline is rejected: files are read line by line). An empty
 * cell means "absent"; `slicesNs` is space-separated ns.
 */
export function splitCsvLine(line: string, where: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new InputError(where, 'unterminated quoted cell (records must fit on one line)');
        cell += line.slice(i, q);
        if (line[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < line.length && line[i] !== ',') throw new InputError(where, `unexpected text after a quoted cell at column ${i + 1}`);
      cells.push(cell);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      const cell = line.slice(i, end);
      if (cell.includes('"')) throw new InputError(where, `stray quote in cell ${cells.length + 1}`);
      cells.push(cell.trim());
      i = end;
    }
    if (i >= line.length) return cells;
    i++; // the comma
    if (i === line.length) {
      cells.push('');
      return cells;
    }
  }
}

/** Validates a header row and returns its columns. */
export function parseCsvHeader(line: string, where: string): RecordField[] {
  const cols = splitCsvLine(line, where);
  const seen = new Set<string>();
  for (const c of cols) {
    if (!isKnownField(c)) {
      // simulate --out writes per-invocation metrics beside the records: point at the records.
      const hint = cols.includes('turnaroundMs') ? "; this is simulate's per-invocation metrics CSV: learn from the records-<scheduler>.jsonl beside it" : '';
      throw new InputError(where, `unknown CSV column '${c}' (columns: ${RECORD_FIELDS.join(', ')})${hint}`);
    }
    if (seen.has(c)) throw new InputError(where, `duplicate CSV column '${c}'`);
    seen.add(c);
  }
  for (const r of REQUIRED_FIELDS) if (!seen.has(r)) throw new InputError(where, `CSV header lacks the required column '${r}'`);
  return cols as RecordField[];
}

function cellNumber(cell: string, col: string, where: string): number {
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(cell)) throw new InputError(where, `${col} must be a number, got '${cell}'`);
  return Number(cell);
}

/** One data row → a validated record. */
export function parseCsvRow(line: string, columns: readonly RecordField[], where: string): InvocationRecord {
  const cells = splitCsvLine(line, where);
  if (cells.length !== columns.length) throw new InputError(where, `expected ${columns.length} cells (as the header), got ${cells.length}`);
  const o: Record<string, unknown> = {};
  columns.forEach((col, i) => {
    const cell = cells[i]!;
    if (cell === '') return;
    if (col === 'name') o.name = cell;
    else if (col === 'slicesNs') o.slicesNs = cell.split(/\s+/).filter(Boolean).map((s, k) => cellNumber(s, `slicesNs[${k}]`, where));
    else o[col] = cellNumber(cell, col, where);
  });
  return parseRecordObject(o, where);
}

function quote(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = RECORD_FIELDS.join(',');

/** A record as one CSV row in RECORD_FIELDS order (no newline). */
export function recordToCsvRow(r: InvocationRecord): string {
  const src = r as unknown as Record<string, unknown>;
  return RECORD_FIELDS.map((k) => {
    const v = src[k];
    if (v === undefined) return '';
    if (k === 'name') {
      if (/[\r\n]/.test(v as string)) throw new InputError(`record ${r.id ?? ''} name`, 'a name with a newline cannot be written as one CSV line');
      return quote(v as string);
    }
    if (k === 'slicesNs') return (v as number[]).join(' ');
    return String(v);
  }).join(',');
}
