import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import type { InvocationRecord } from '../core/records.js';
import { NS_PER_S } from '../core/time.js';
import { groupOf, type FunctionInfo, type InvocationSpec, type Phase } from '../core/workload.js';
import type { WorkloadBundle } from './bundle.js';
import { MAX_ROW_CPU_MS, MAX_TRACE_SPAN_NS } from './trace.js';
import { readInvocationRecords, type RecordFormat } from './invocation-io/stream.js';

/**
 * Replays recorded invocations (the InvocationRecord files `simulate --out` writes and `learn`
 * reads): each record arrives at its recorded `arrivalNs` (rebased so the first is at 0) and
 * demands its recorded `cpuNs`, then blocks for its `blockedNs` if it had any. Arrival times are
 * kept as recorded (`--load` does not rescale them); `limit` stops reading after that many.
 */
export async function readRecordsWorkload(path: string, opts: { cpus: number; limit?: number; format?: RecordFormat }): Promise<WorkloadBundle> {
  const limit = opts.limit ?? Infinity;
  const records: InvocationRecord[] = [];
  for await (const r of readInvocationRecords(path, opts.format ? { format: opts.format } : {})) {
    if (records.length >= limit) break;
    records.push(r);
  }
  return workloadFromRecords(records, path, opts.cpus);
}

export function workloadFromRecords(records: readonly InvocationRecord[], file: string, cpus: number): WorkloadBundle {
  if (records.length === 0) throw new InputError(file, 'no invocation records');
  const sorted = [...records].sort((a, b) => a.arrivalNs - b.arrivalNs);
  const t0 = sorted[0]!.arrivalNs;
  // The same bounds as an artifact trace: each invocation's demand, and the span replayed.
  const maxNs = MAX_ROW_CPU_MS * 1e6;
  for (const r of records) {
    for (const k of ['cpuNs', 'blockedNs'] as const) {
      if ((r[k] ?? 0) > maxNs) throw new InputError(`${file}${r.id !== undefined ? ` record id ${r.id}` : ''}`, `${k} ${r[k]} is above the ${MAX_ROW_CPU_MS / 1000} s one replayed invocation may take`);
    }
  }
  const span = sorted[sorted.length - 1]!.arrivalNs - t0;
  if (span > MAX_TRACE_SPAN_NS) throw new InputError(file, `the arrivals span ${(span / 86400e9).toPrecision(3)} days; the limit is 7 days (replay a shorter part)`);
  const perFunc = new Map<FuncId, { name: string | undefined; sum: number; count: number }>();
  let totalCpu = 0;
  const invocations: InvocationSpec[] = sorted.map((r, i) => {
    // A record with no CPU time still has to be scheduled once: 1 µs, as the generators' floor.
    const cpu = Math.max(1000, r.cpuNs);
    const phases: Phase[] = [{ kind: 'cpu', ns: cpu }];
    if (r.blockedNs) phases.push({ kind: 'block', ns: r.blockedNs });
    totalCpu += cpu;
    const acc = perFunc.get(r.funcId) ?? { name: r.name, sum: 0, count: 0 };
    acc.sum += cpu;
    acc.count++;
    acc.name ??= r.name;
    perFunc.set(r.funcId, acc);
    return { id: i + 1, funcId: r.funcId, arrivalNs: r.arrivalNs - t0, phases };
  });
  const functions: FunctionInfo[] = [...perFunc.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([funcId, acc]) => ({ funcId, name: acc.name ?? `f${funcId}`, app: 'recorded', group: groupOf(acc.sum / acc.count) }));
  const name = file.split('/').pop() ?? file;
  const offered = span > 0 ? totalCpu / (cpus * span) : Infinity;
  return {
    workload: { name, functions, invocations },
    description: `records ${name}: ${invocations.length} invocations of ${functions.length} functions, arrivals as recorded (offered ${(100 * offered).toFixed(0)}% on ${cpus} CPUs)`,
    cpus,
    offeredLoad: offered,
    meanCpuNs: totalCpu / invocations.length,
    ratePerSec: span > 0 ? (invocations.length / span) * NS_PER_S : Infinity,
  };
}
