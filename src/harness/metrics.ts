import type { FuncId } from '../core/ids.js';
import type { InvocationRecord } from '../core/records.js';
import { nsToMs, type Ns } from '../core/time.js';
import { groupOf, type Workload } from '../core/workload.js';
import { cdfPoints, histogramOverTime, mean, percentileSorted, sortedCopy } from './stats.js';

/** What one invocation experienced, derived from its record. */
export interface InvocationMetrics {
  id: number;
  funcId: FuncId;
  /** Table 1 group of its deployment (or of its own CPU time when the function is unknown). */
  group: string;
  /** Second grouping (I/O study class), when the workload has one. */
  cls?: string;
  turnaroundNs: Ns;
  cpuNs: Ns;
  firstWaitNs: Ns | undefined;
  waitNs: Ns | undefined;
  slices: number | undefined;
  contextSwitches: number | undefined;
  /** Turnaround over CPU demand (1 = never waited or blocked). */
  slowdown: number;
}

export function invocationMetrics(
  records: readonly InvocationRecord[],
  workload: Workload,
  classOf?: ReadonlyMap<FuncId, string>,
): InvocationMetrics[] {
  const groupOfFunc = new Map(workload.functions.map((f) => [f.funcId, String(f.group)]));
  return records.map((r, i) => {
    const turnaroundNs = r.endNs - r.arrivalNs;
    const switches =
      r.voluntarySwitches === undefined && r.involuntarySwitches === undefined ? undefined : (r.voluntarySwitches ?? 0) + (r.involuntarySwitches ?? 0);
    const m: InvocationMetrics = {
      id: r.id ?? i + 1,
      funcId: r.funcId,
      group: groupOfFunc.get(r.funcId) ?? String(groupOf(r.cpuNs)),
      turnaroundNs,
      cpuNs: r.cpuNs,
      firstWaitNs: r.firstWaitNs,
      waitNs: r.waitNs,
      slices: r.slicesNs?.length,
      contextSwitches: switches,
      slowdown: r.cpuNs > 0 ? turnaroundNs / r.cpuNs : 1,
    };
    const c = classOf?.get(r.funcId);
    if (c !== undefined) m.cls = c;
    return m;
  });
}

/** Summary of a set of invocations; times in ms. */
export interface Summary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanSlowdown: number;
  /** Mean time runnable but not running (where the producer records it). */
  meanWaitMs: number | null;
  /** Mean time from arrival to first run. */
  meanFirstWaitMs: number | null;
  /** Mean run slices per invocation. */
  meanSlices: number | null;
  /** Share (%) of these invocations that finished later than under SRPT (same id). */
  slowerThanSrptPct: number | null;
  /** Share (%) finishing within 1 s (the paper's E3 statistic). */
  within1sPct: number;
}

function optionalMean(xs: (number | undefined)[]): number | null {
  const known = xs.filter((x): x is number => x !== undefined);
  return known.length === xs.length && known.length > 0 ? mean(known) : null;
}

export function summarise(ms: readonly InvocationMetrics[], srptTurnaround?: ReadonlyMap<number, Ns>): Summary {
  const t = sortedCopy(ms.map((m) => m.turnaroundNs));
  let slower: number | null = null;
  if (srptTurnaround) {
    let n = 0;
    let k = 0;
    for (const m of ms) {
      const ref = srptTurnaround.get(m.id);
      if (ref === undefined) continue;
      n++;
      if (m.turnaroundNs > ref) k++;
    }
    slower = n > 0 ? (100 * k) / n : null;
  }
  let within = 0;
  for (const m of ms) if (m.turnaroundNs <= 1e9) within++;
  const waits = optionalMean(ms.map((m) => m.waitNs));
  const first = optionalMean(ms.map((m) => m.firstWaitNs));
  return {
    count: ms.length,
    meanMs: nsToMs(mean(t)),
    p50Ms: nsToMs(percentileSorted(t, 50)),
    p90Ms: nsToMs(percentileSorted(t, 90)),
    p99Ms: nsToMs(percentileSorted(t, 99)),
    p999Ms: nsToMs(percentileSorted(t, 99.9)),
    maxMs: t.length ? nsToMs(t[t.length - 1]!) : NaN,
    meanSlowdown: mean(ms.map((m) => m.slowdown)),
    meanWaitMs: waits === null ? null : nsToMs(waits),
    meanFirstWaitMs: first === null ? null : nsToMs(first),
    meanSlices: optionalMean(ms.map((m) => m.slices)),
    slowerThanSrptPct: slower,
    within1sPct: ms.length ? (100 * within) / ms.length : NaN,
  };
}

/** Split by a key, keys in natural order ("1" < "2" < … ). */
export function splitBy<T>(xs: readonly T[], key: (x: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return new Map([...out.entries()].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true })));
}

/** Plot data for one run: CDFs overall and per group/class, completions over time. */
export interface RunCurves {
  cdfMs: { all: [number, number][]; groups: Record<string, [number, number][]>; classes?: Record<string, [number, number][]> };
  throughput: { binMs: number; completions: number[] };
}

export function runCurves(ms: readonly InvocationMetrics[], records: readonly InvocationRecord[], points = 200): RunCurves {
  const cdf = (xs: readonly InvocationMetrics[]): [number, number][] =>
    cdfPoints(sortedCopy(xs.map((m) => nsToMs(m.turnaroundNs))), points);
  const groups: Record<string, [number, number][]> = {};
  for (const [k, v] of splitBy(ms, (m) => m.group)) groups[k] = cdf(v);
  const out: RunCurves = { cdfMs: { all: cdf(ms), groups }, throughput: { binMs: 0, completions: [] } };
  if (ms.some((m) => m.cls !== undefined)) {
    const classes: Record<string, [number, number][]> = {};
    for (const [k, v] of splitBy(ms, (m) => m.cls)) classes[k] = cdf(v);
    out.cdfMs.classes = classes;
  }
  // About 100 bins over the run, rounded to a readable width.
  let end = 0;
  for (const r of records) if (r.endNs > end) end = r.endNs;
  const binMs = niceBinMs(nsToMs(end) / 100);
  out.throughput = { binMs, completions: histogramOverTime(records.map((r) => r.endNs), binMs * 1e6) };
  return out;
}

function niceBinMs(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
