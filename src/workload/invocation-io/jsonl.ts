import { InputError } from '../../core/errors.js';
import type { InvocationRecord } from '../../core/records.js';
import { parseRecordObject, RECORD_FIELDS } from './schema.js';

/** One JSON Lines line → a validated record. */
export function parseJsonlLine(line: string, where: string): InvocationRecord {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (err) {
    throw new InputError(where, `not valid JSON (${(err as Error).message})`);
  }
  return parseRecordObject(obj, where);
}

/** A record as one JSON line (fields in schema order, absent ones omitted), without newline. */
export function recordToJsonl(r: InvocationRecord): string {
  const src = r as unknown as Record<string, unknown>;
  const o: Record<string, unknown> = {};
  for (const k of RECORD_FIELDS) if (src[k] !== undefined) o[k] = src[k];
  return JSON.stringify(o);
}
