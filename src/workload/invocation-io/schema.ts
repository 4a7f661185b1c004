import { InputError } from '../../core/errors.js';
import { MAX_FUNC_ID } from '../../core/ids.js';
import type { InvocationRecord } from '../../core/records.js';

/**
 * The on-disk shape of an InvocationRecord: the same field names and units (ns) as
 * src/core/records.ts, in this column order for CSV. Unknown fields are rejected so a typo
 * (`arrivalMs`) or a unit mix-up fails loudly instead of silently dropping data.
 */
export const RECORD_FIELDS = [
  'funcId',
  'arrivalNs',
  'endNs',
  'cpuNs',
  'id',
  'name',
  'firstWaitNs',
  'waitNs',
  'blockedNs',
  'voluntarySwitches',
  'involuntarySwitches',
  'slicesNs',
] as const;
export type RecordField = (typeof RECORD_FIELDS)[number];
export const REQUIRED_FIELDS: readonly RecordField[] = ['funcId', 'arrivalNs', 'endNs', 'cpuNs'];
const KNOWN = new Set<string>(RECORD_FIELDS);
const INT_FIELDS: readonly RecordField[] = ['arrivalNs', 'endNs', 'cpuNs', 'id', 'firstWaitNs', 'waitNs', 'blockedNs', 'voluntarySwitches', 'involuntarySwitches'];

export function isKnownField(name: string): name is RecordField {
  return KNOWN.has(name);
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function nonNegInt(v: unknown, field: string, where: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new InputError(where, `${field} must be a number, got ${describe(v)}`);
  if (v < 0) throw new InputError(where, `${field} must not be negative, got ${v}`);
  if (!Number.isSafeInteger(v)) throw new InputError(where, `${field} must be a whole number below 2^53 (ns are integers), got ${v}`);
  return v;
}

/**
 * Validates one decoded record (from a JSON line or a CSV row) and returns a clean copy holding
 * only the fields present. `where` names the input (file:line) in every error.
 */
export function parseRecordObject(obj: unknown, where: string): InvocationRecord {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new InputError(where, `expected a JSON object, got ${describe(obj)}`);
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new InputError(where, `unknown field '${k}' (fields: ${RECORD_FIELDS.join(', ')})`);
  for (const k of REQUIRED_FIELDS) if (o[k] === undefined || o[k] === null) throw new InputError(where, `missing field '${k}'`);

  const funcId = o.funcId;
  if (typeof funcId !== 'number' || !Number.isInteger(funcId) || funcId < 1 || funcId > MAX_FUNC_ID) {
    throw new InputError(where, `funcId must be an integer in 1..${MAX_FUNC_ID} (0 means "not a function"), got ${describe(funcId)}`);
  }
  const rec: InvocationRecord = { funcId, arrivalNs: 0, endNs: 0, cpuNs: 0 };
  const out = rec as unknown as Record<string, unknown>;
  for (const k of INT_FIELDS) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    out[k] = nonNegInt(v, k, where);
  }
  if (o.name !== undefined && o.name !== null) {
    if (typeof o.name !== 'string') throw new InputError(where, `name must be a string, got ${describe(o.name)}`);
    rec.name = o.name;
  }
  if (o.slicesNs !== undefined && o.slicesNs !== null) {
    if (!Array.isArray(o.slicesNs)) throw new InputError(where, `slicesNs must be an array of ns, got ${describe(o.slicesNs)}`);
    rec.slicesNs = o.slicesNs.map((s, i) => nonNegInt(s, `slicesNs[${i}]`, where));
  }
  if (rec.endNs < rec.arrivalNs) throw new InputError(where, `endNs ${rec.endNs} is before arrivalNs ${rec.arrivalNs}`);
  return rec;
}
