import type { FuncId } from '../core/ids.js';
import type { Policy } from '../core/policy.js';
import { policyIndex } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo, Group } from '../core/workload.js';
import { groupOf } from '../core/workload.js';
import type { FuncStat, GroupCdf } from './schema.js';

/** Nearest-rank quantile of an ascending array (q in 0..1). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Quantile levels a group CDF is sampled at: dense in the tail, where schedulers differ. */
export const CDF_LEVELS: readonly number[] = [
  0, 0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96,
  0.97, 0.98, 0.99, 0.995, 0.999, 1,
];

/**
 * Per-function stats (invocations, mean and p99 turnaround, the policy's rank and slice) and
 * per-group turnaround CDFs of a set of completed invocations. A function's group is its
 * deployment's Table 1 group when known, else the group of the invocation's own CPU time.
 */
export function summarise(
  records: readonly InvocationRecord[],
  functions: readonly FunctionInfo[],
  policy: Policy | undefined,
): { funcs: FuncStat[]; groups: GroupCdf[] } {
  const info = new Map<FuncId, FunctionInfo>(functions.map((f) => [f.funcId, f]));
  const byFunc = new Map<FuncId, number[]>();
  const byGroup = new Map<Group, number[]>();
  for (const r of records) {
    const t = r.endNs - r.arrivalNs;
    let list = byFunc.get(r.funcId);
    if (!list) byFunc.set(r.funcId, (list = []));
    list.push(t);
    const g = info.get(r.funcId)?.group ?? groupOf(r.cpuNs);
    let gl = byGroup.get(g);
    if (!gl) byGroup.set(g, (gl = []));
    gl.push(t);
  }
  const entries = policy ? policyIndex(policy) : new Map();
  const ids = new Set<FuncId>([...functions.map((f) => f.funcId), ...byFunc.keys()]);
  const funcs: FuncStat[] = [...ids]
    .sort((a, b) => a - b)
    .map((funcId) => {
      const ts = (byFunc.get(funcId) ?? []).sort((a, b) => a - b);
      const e = entries.get(funcId);
      const name = info.get(funcId)?.name;
      return {
        funcId,
        ...(name !== undefined ? { name } : {}),
        invocations: ts.length,
        meanTurnaroundNs: ts.length ? Math.round(ts.reduce((s, x) => s + x, 0) / ts.length) : 0,
        p99TurnaroundNs: ts.length ? quantileSorted(ts, 0.99) : 0,
        ...(e ? { rank: e.rank, sliceNs: e.sliceNs } : {}),
      };
    });
  const groups: GroupCdf[] = [...byGroup.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([group, ts]) => {
      ts.sort((a, b) => a - b);
      return { group, count: ts.length, points: CDF_LEVELS.map((q): [number, Ns] => [q, quantileSorted(ts, q)]) };
    });
  return { funcs, groups };
}
