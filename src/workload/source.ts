import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { GenerationOptions } from './arrivals.js';
import type { WorkloadBundle } from './bundle.js';
import { formatFromLine, formatFromPath } from './invocation-io/stream.js';
import { openTraceFile, readLines } from './invocation-io/lines.js';
import { ioMixWorkload } from './io-mix.js';
import { readRecordsWorkload } from './records-workload.js';
import { table1Workload, TABLE1_MIXES, type Table1Mix } from './table1.js';
import { readArtifactTrace } from './trace.js';

/** Names `--workload` accepts besides a file path. */
export const WORKLOAD_NAMES = ['huawei', 'azure', 'io-mix'] as const;

export interface SourceOptions extends GenerationOptions {
  /** Trace files only: fixed gap unit instead of scaling to `load`. */
  msPerUnit?: number;
}

/** A generated workload by name: a Table 1 mix or the I/O study mix. */
export function loadWorkload(spec: string, opts: SourceOptions): WorkloadBundle {
  if ((TABLE1_MIXES as readonly string[]).includes(spec)) return table1Workload({ mix: spec as Table1Mix, ...opts });
  if (spec === 'io-mix') return ioMixWorkload(opts);
  if (existsSync(spec)) throw new InputError('--workload', `"${spec}" is a file: read it with loadWorkloadSource`);
  throw new InputError('--workload', `"${spec}" is neither ${WORKLOAD_NAMES.join(', ')} nor an existing trace file`);
}

/** What kind of trace a file holds: InvocationRecords (JSON Lines or CSV) or the artifact's rows. */
export async function traceKind(path: string): Promise<'jsonl' | 'csv' | 'artifact'> {
  const byName = formatFromPath(path);
  if (byName) return byName;
  const input = await openTraceFile(path);
  try {
    for await (const { n, text } of readLines(input, path)) {
      const t = text.trim();
      if (t === '' || t.startsWith('#')) continue;
      if (t.startsWith('{') || /funcId/.test(t)) return formatFromLine(t, `${path}:${n}`);
      return 'artifact';
    }
  } finally {
    input.destroy();
  }
  return 'artifact';
}

/**
 * Resolve `--workload`: a generated mix, or a file — InvocationRecords (what `simulate --out`
 * writes and `learn` reads) or an artifact trace (`id n app gap port`). Files are streamed and
 * `invocations` caps the rows read.
 */
export async function loadWorkloadSource(spec: string, opts: SourceOptions): Promise<WorkloadBundle> {
  if ((TABLE1_MIXES as readonly string[]).includes(spec) || spec === 'io-mix') return loadWorkload(spec, opts);
  if (!existsSync(spec)) throw new InputError('--workload', `"${spec}" is neither ${WORKLOAD_NAMES.join(', ')} nor an existing trace file`);
  const kind = await traceKind(spec);
  if (kind === 'artifact') {
    return readArtifactTrace(spec, { cpus: opts.cpus, load: opts.load, seed: opts.seed, limit: opts.invocations, ...(opts.msPerUnit !== undefined ? { msPerUnit: opts.msPerUnit } : {}) });
  }
  return readRecordsWorkload(spec, { cpus: opts.cpus, limit: opts.invocations, format: kind });
}
