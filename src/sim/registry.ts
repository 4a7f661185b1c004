import type { Ns, SchedulerName } from '../core/index.js';
import { InputError } from '../core/index.js';
import { AlpsGhostAgent } from './alps-agent.js';
import { GHOST_COSTS, type DelegatedAgent } from './agent.js';
import { fairTunables } from './linux.js';
import type { SchedulerModel } from './model.js';
import { AlpsModel } from './models/alps.js';
import { AlpsLocalAgentModel } from './models/alps-local.js';
import { CfsModel } from './models/cfs.js';
import { DelegatedModel } from './models/delegated.js';
import { EevdfModel } from './models/eevdf.js';
import { FifoModel, RrModel, SrptModel } from './models/global.js';
import { SFS_DEFAULTS, SfsModel } from './models/sfs.js';

/** Scheduler models this build simulates. */
export const SCHEDULERS = ['cfs', 'eevdf', 'fifo', 'rr', 'srpt', 'sfs', 'alps', 'alps-delegated'] as const;

/** Models fed by the ALPS learner. */
export const LEARNING_SCHEDULERS: ReadonlySet<string> = new Set(['alps', 'alps-delegated']);

type Tunables = Record<string, number | string | boolean>;

function num(tunables: Tunables, key: string, dflt: number, min = 0): number {
  const v = tunables[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InputError(`tunables.${key}`, `must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Tunables each model reads (anything else is rejected, so typos do not pass silently). */
const KNOWN_TUNABLES: Record<string, readonly string[]> = {
  sfs: ['sfs.initialSliceNs', 'sfs.minSliceNs', 'sfs.window', 'sfs.bypassFactor'],
  'alps-delegated': ['ghost.msgNs', 'ghost.txnNs', 'ghost.ipiNs', 'ghost.agent'],
};
const COMMON_TUNABLES = ['checkInvariants'];

/**
 * Build a scheduler model by name. `agent` replaces the built-in ALPS agent on the delegated
 * path (a real ghOSt agent plugs in here).
 */
export function createModel(name: SchedulerName, ncpus: number, tunables: Tunables = {}, agent?: DelegatedAgent, baseSliceNs?: Ns): SchedulerModel {
  // An outside agent under its own name runs on the delegated path.
  const delegated = name === 'alps-delegated' || (agent !== undefined && !(SCHEDULERS as readonly string[]).includes(name));
  const known = new Set([...(KNOWN_TUNABLES[delegated ? 'alps-delegated' : name] ?? []), ...COMMON_TUNABLES]);
  for (const k of Object.keys(tunables)) {
    if (!known.has(k)) throw new InputError(`tunables.${k}`, `unknown for scheduler '${name}' (known: ${[...known].join(', ')})`);
  }
  if (delegated) {
    const mode = tunables['ghost.agent'] ?? 'central';
    if (mode !== 'central' && mode !== 'local') {
      throw new InputError('tunables.ghost.agent', `must be 'central' or 'local', got ${JSON.stringify(mode)}`);
    }
    if (mode === 'local') {
      if (agent) throw new InputError('tunables.ghost.agent', "'local' runs the built-in ALPS decisions; an outside agent needs 'central'");
      return new AlpsLocalAgentModel(ncpus, num(tunables, 'ghost.msgNs', GHOST_COSTS.msgNs) + num(tunables, 'ghost.txnNs', GHOST_COSTS.txnNs));
    }
    const tun = fairTunables(ncpus, baseSliceNs);
    return new DelegatedModel(
      ncpus,
      agent ?? new AlpsGhostAgent(tun.minGranularityNs, tun.latencyNs >> 1),
      {
        msgNs: num(tunables, 'ghost.msgNs', GHOST_COSTS.msgNs),
        txnNs: num(tunables, 'ghost.txnNs', GHOST_COSTS.txnNs),
        ipiNs: num(tunables, 'ghost.ipiNs', GHOST_COSTS.ipiNs),
      },
      name,
    );
  }
  switch (name) {
    case 'cfs':
      return new CfsModel(ncpus, baseSliceNs);
    case 'eevdf':
      return new EevdfModel(ncpus, baseSliceNs);
    case 'fifo':
      return new FifoModel(ncpus);
    case 'rr':
      return new RrModel(ncpus);
    case 'srpt':
      return new SrptModel(ncpus);
    case 'alps':
      return new AlpsModel(ncpus, undefined, baseSliceNs);
    case 'sfs':
      return new SfsModel(ncpus, {
        initialSliceNs: num(tunables, 'sfs.initialSliceNs', SFS_DEFAULTS.initialSliceNs, 1),
        minSliceNs: num(tunables, 'sfs.minSliceNs', SFS_DEFAULTS.minSliceNs, 1),
        window: num(tunables, 'sfs.window', SFS_DEFAULTS.window, 2),
        bypassFactor: num(tunables, 'sfs.bypassFactor', SFS_DEFAULTS.bypassFactor, 0),
      }, baseSliceNs);
    default:
      throw new InputError('scheduler', `unknown scheduler '${name}' (known: ${SCHEDULERS.join(', ')})`);
  }
}
