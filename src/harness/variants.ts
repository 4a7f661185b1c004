import { InputError } from '../core/errors.js';
import type { AbVariant } from './ab.js';

/** Scheduler models every simulator build has (src/core/sim.ts). */
export const KNOWN_SCHEDULERS = ['cfs', 'eevdf', 'fifo', 'rr', 'sfs', 'srpt', 'alps', 'alps-delegated'] as const;

/**
 * Parse `--schedulers`: comma-separated names, each optionally with `:io-aware` (ALPS models:
 * learn from blocking time and voluntary switches too, I/O study §9), e.g.
 * `cfs,alps,alps:io-aware`. `globalIoAware` applies io-awareness to every ALPS run.
 */
export function parseSchedulerList(spec: string, globalIoAware = false, flag = '--schedulers'): AbVariant[] {
  const tokens = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (tokens.length === 0) throw new InputError(flag, 'names no scheduler');
  const seen = new Set<string>();
  return tokens.map((tok) => {
    const [name, ...mods] = tok.split(':');
    if (!(KNOWN_SCHEDULERS as readonly string[]).includes(name!)) {
      throw new InputError(flag, `unknown scheduler "${name}" (known: ${KNOWN_SCHEDULERS.join(', ')})`);
    }
    let ioAware = globalIoAware && name!.startsWith('alps');
    for (const m of mods) {
      if (m !== 'io-aware') throw new InputError(flag, `unknown modifier ":${m}" in "${tok}" (known: io-aware)`);
      if (!name!.startsWith('alps')) throw new InputError(flag, `":io-aware" applies to ALPS models only, not "${name}"`);
      ioAware = true;
    }
    if (seen.has(tok)) throw new InputError(flag, `"${tok}" is listed twice`);
    seen.add(tok);
    const v: AbVariant = { scheduler: name!, label: tok };
    if (ioAware) v.options = { learner: { ioAware: true } };
    return v;
  });
}
