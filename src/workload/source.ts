import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { ArrivalLaw, BurstOptions } from './arrivals.js';
import type { WorkloadBundle } from './bundle.js';
import { ioMixWorkload } from './io-mix.js';
import { table1Workload, TABLE1_MIXES, type Table1Mix } from './table1.js';
import { readArtifactTrace } from './trace.js';

/** Names `--workload` accepts besides a file path. */
export const WORKLOAD_NAMES = ['huawei', 'azure', 'io-mix'] as const;

export interface SourceOptions {
  invocations: number;
  cpus: number;
  load: number;
  seed: number;
  arrivals?: ArrivalLaw;
  burst?: BurstOptions;
  /** Trace files only: fixed gap unit instead of scaling to `load`. */
  msPerUnit?: number;
}

/**
 * Resolve `--workload`: a Table 1 mix, the I/O study mix, or a path to an artifact trace
 * file (for which `invocations` caps the rows read).
 */
export function loadWorkload(spec: string, opts: SourceOptions): WorkloadBundle {
  if ((TABLE1_MIXES as readonly string[]).includes(spec)) return table1Workload({ mix: spec as Table1Mix, ...opts });
  if (spec === 'io-mix') return ioMixWorkload(opts);
  if (existsSync(spec)) {
    return readArtifactTrace(spec, { cpus: opts.cpus, load: opts.load, seed: opts.seed, limit: opts.invocations, ...(opts.msPerUnit !== undefined ? { msPerUnit: opts.msPerUnit } : {}) });
  }
  throw new InputError('--workload', `"${spec}" is neither ${WORKLOAD_NAMES.join(', ')} nor an existing trace file`);
}
