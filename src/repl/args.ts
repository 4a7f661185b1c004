import { InputError } from '../core/errors.js';
import type { LearnerParams } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import { parseParamsPatch, PARAM_KEYS, type ParamsPatch } from '../telemetry/schema.js';

/** `20ms`, `1.5s`, `300us`, `5000ns`; a bare number is in `bareUnit`. */
export function parseDuration(text: string, what: string, bareUnit: 'ms' | 'ns' = 'ms'): Ns {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$/.exec(text.trim());
  if (!m) throw new InputError(what, `not a duration: ${JSON.stringify(text)} (e.g. 20ms, 1.5s)`);
  const mult = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? bareUnit) as 'ns' | 'us' | 'µs' | 'ms' | 's'];
  return Math.round(Number(m[1]) * mult);
}

/** Names `.set` accepts: the learner's own keys plus `window` (with units). */
export const SET_KEYS = [...PARAM_KEYS, 'window'];

/**
 * `.set alpha 2`, `.set alpha=2 beta=0.5`, `.set window 3s`, `.set model linreg`. Values are
 * typed by key; the shape is then checked like a socket message so both paths agree.
 */
export function parseSetArgs(text: string): ParamsPatch {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new InputError('.set', `usage: .set KEY VALUE [KEY=VALUE ...] (keys: ${SET_KEYS.join(', ')})`);
  const pairs: Array<[string, string]> = [];
  if (words.length === 2 && !words[0]!.includes('=')) pairs.push([words[0]!, words[1]!]);
  else {
    for (const w of words) {
      const i = w.indexOf('=');
      if (i <= 0) throw new InputError('.set', `expected KEY=VALUE, got ${JSON.stringify(w)}`);
      pairs.push([w.slice(0, i), w.slice(i + 1)]);
    }
  }
  // Keys are typed by the user: a null-prototype object, so `__proto__=…` is just an unknown key.
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of pairs) {
    if (k === 'window') raw['windowNs'] = parseDuration(v, '.set window', 'ms');
    else if (k === 'model' || k === 'mode') raw[k] = v;
    else if (k === 'ioAware') raw[k] = v === 'true' ? true : v === 'false' ? false : v;
    else if (k === 'windowNs' || k === 'maxRecords' || k === 'cpus' || k === 'seed') raw[k] = /^-?\d+$/.test(v) ? Number(v) : v;
    else raw[k] = /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(v) ? Number(v) : v;
  }
  return parseParamsPatch(raw, '.set');
}

/** `.pin fib1 rank=1 slice=20ms` → function name plus the pin. */
export function parsePinArgs(text: string): { func: string; pin: { rank?: number; sliceNs?: Ns } } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const func = words.shift();
  if (!func || words.length === 0) throw new InputError('.pin', 'usage: .pin FUNC rank=N [slice=20ms]');
  const pin: { rank?: number; sliceNs?: Ns } = {};
  for (const w of words) {
    const [k, v] = w.split('=', 2);
    if (k === 'rank' && v && /^\d+$/.test(v) && Number(v) >= 1) pin.rank = Number(v);
    else if ((k === 'slice' || k === 'sliceNs') && v) pin.sliceNs = parseDuration(v, `.pin ${k}`, k === 'slice' ? 'ms' : 'ns');
    else throw new InputError('.pin', `expected rank=N (N ≥ 1) or slice=DURATION, got ${JSON.stringify(w)}`);
  }
  return { func, pin };
}

export type ParamKey = keyof LearnerParams;
