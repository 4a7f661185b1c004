import type { InvocationRecord } from '../../core/records.js';
import type { FuncId } from '../../core/ids.js';
import { percentileSorted, sortedCopy, mean } from '../stats.js';
import type { RunReport } from '../report.js';
import type { Compared } from './context.js';
import { mdTable } from './section.js';
import { fmtMs } from '../table.js';

export function run(c: Compared, label: string): RunReport | undefined {
  return c.result.report.runs.find((r) => r.label === label);
}

/** Why a run is missing, for a table cell. */
export function missing(c: Compared, label: string): string {
  const f = c.failed.find((x) => x.label === label);
  return f ? `not run: ${f.reason}` : 'not run';
}

/** Turnaround samples (ms) of the invocations whose deployment is in `group` (or all). */
export function turnaroundsMs(c: Compared, label: string, group?: string): Float64Array {
  const recs = c.records.get(label) ?? [];
  const g = new Map<FuncId, string>(c.bundle.workload.functions.map((f) => [f.funcId, String(f.group)]));
  return sortedCopy(recs.filter((r) => group === undefined || g.get(r.funcId) === group).map((r) => (r.endNs - r.arrivalNs) / 1e6));
}

/**
 * Lowest percentile (0.1 steps, from 50) from which `a`'s turnaround quantiles stay at or above
 * `b`'s up to p99.9 — where a's CDF crosses below b's for good (SRPT's tail vs CFS, M2).
 */
export function tailCrossing(a: Float64Array, b: Float64Array): number | null {
  let cross: number | null = null;
  for (let q = 999; q >= 500; q--) {
    if (percentileSorted(a, q / 10) >= percentileSorted(b, q / 10)) cross = q / 10;
    else break;
  }
  return cross;
}

/** Share (%) of invocations (optionally of one group) faster under `a` than under `b`. */
export function shareFaster(c: Compared, a: string, b: string, group?: string): number {
  const ra = c.records.get(a);
  const rb = c.records.get(b);
  if (!ra || !rb) return NaN;
  const g = new Map<FuncId, string>(c.bundle.workload.functions.map((f) => [f.funcId, String(f.group)]));
  const byId = new Map<number, InvocationRecord>();
  for (const r of rb) byId.set(r.id!, r);
  let n = 0;
  let k = 0;
  for (const r of ra) {
    if (group !== undefined && g.get(r.funcId) !== group) continue;
    const o = byId.get(r.id!);
    if (!o) continue;
    n++;
    if (r.endNs - r.arrivalNs < o.endNs - o.arrivalNs) k++;
  }
  return n ? (100 * k) / n : NaN;
}

/** Mean turnaround (ms) of the shorter half of a run's invocations (Fig. 15's statistic). */
export function shorterHalfMeanMs(c: Compared, label: string): number {
  const t = turnaroundsMs(c, label);
  return mean(t.subarray(0, Math.floor(t.length / 2)));
}

/** Markdown table: one row per run, mean/p50/p99 and per-group means. */
export function runsTable(c: Compared, baseline = 'cfs'): string {
  const runs = c.result.report.runs;
  const base = runs.find((r) => r.label === baseline);
  const groups = [...new Set(runs.flatMap((r) => Object.keys(r.groups)))].sort();
  const rows = runs.map((r) => [
    r.label,
    fmtMs(r.meanMs),
    base && base !== r ? `${(100 * (r.meanMs - base.meanMs) / base.meanMs).toFixed(1)}%` : '',
    fmtMs(r.p50Ms),
    fmtMs(r.p99Ms),
    ...groups.map((g) => `${fmtMs(r.groups[g]?.meanMs)} / ${fmtMs(r.groups[g]?.p99Ms)}`),
    r.switchesPerInvocation.toFixed(2),
  ]);
  for (const f of c.failed) rows.push([f.label, `not run: ${f.reason}`, ...new Array(5 + groups.length).fill('')]);
  return mdTable(['scheduler', 'mean ms', `vs ${baseline}`, 'p50 ms', 'p99 ms', ...groups.map((g) => `G${g} mean / p99 ms`), 'ctx-sw/inv'], rows);
}
