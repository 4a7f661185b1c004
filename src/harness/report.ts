import type { InvocationRecord } from '../core/records.js';
import type { Ns } from '../core/time.js';
import { nsToMs } from '../core/time.js';
import type { WorkloadBundle } from '../workload/bundle.js';
import { invocationMetrics, runCurves, splitBy, summarise, type InvocationMetrics, type RunCurves, type Summary } from './metrics.js';

/**
 * What one scheduler run produced, whoever ran it: the simulator (a SimResult is a superset)
 * or a real kernel (the `compare` command fills the same fields from the profiler).
 */
export interface RunOutcome {
  scheduler: string;
  /** Display name when one scheduler runs in several configurations (e.g. "alps W=30s"). */
  label?: string;
  records: readonly InvocationRecord[];
  contextSwitches: number;
  makespanNs: Ns;
  busyNsPerCpu?: readonly Ns[];
  events?: number;
  policies?: readonly unknown[];
  /** Wall-clock time the run took (ms). */
  wallMs: number;
}

/** One run in a report: overall summary, per group, per class. Times in ms. */
export interface RunReport extends Summary {
  scheduler: string;
  label: string;
  cpus: number;
  contextSwitches: number;
  switchesPerInvocation: number;
  makespanMs: number;
  /** Busy CPU time over cpus × makespan (null when the producer does not record busy time). */
  utilisation: number | null;
  events: number | null;
  policyGenerations: number;
  wallMs: number;
  groups: Record<string, Summary>;
  classes?: Record<string, Summary & { label: string }>;
}

export interface WorkloadHeader {
  name: string;
  description: string;
  invocations: number;
  functions: number;
  cpus: number;
  offeredLoad: number;
  meanCpuMs: number;
  ratePerSec: number;
  seed: number;
}

/** The report every comparison prints: `simulate --json`, `compare --json`, reproduce. */
export interface ComparisonReport {
  workload: WorkloadHeader;
  runs: RunReport[];
}

/** A report plus the plot data of each run (keyed by label), for charts. */
export interface ComparisonResult {
  report: ComparisonReport;
  curves: Record<string, RunCurves>;
  /** Per-invocation metrics of each run (keyed by label), for `--out` CSVs. */
  invocations: Record<string, InvocationMetrics[]>;
}

export function workloadHeader(bundle: WorkloadBundle, seed: number): WorkloadHeader {
  return {
    name: bundle.workload.name,
    description: bundle.description,
    invocations: bundle.workload.invocations.length,
    functions: bundle.workload.functions.length,
    cpus: bundle.cpus,
    offeredLoad: bundle.offeredLoad,
    meanCpuMs: nsToMs(bundle.meanCpuNs),
    ratePerSec: bundle.ratePerSec,
    seed,
  };
}

/** SRPT turnaround by invocation id, the reference for "slower than SRPT". */
export function turnaroundById(records: readonly InvocationRecord[]): Map<number, Ns> {
  const m = new Map<number, Ns>();
  records.forEach((r, i) => m.set(r.id ?? i + 1, r.endNs - r.arrivalNs));
  return m;
}

export function buildRunReport(
  bundle: WorkloadBundle,
  cpus: number,
  outcome: RunOutcome,
  srpt?: ReadonlyMap<number, Ns>,
): { run: RunReport; curves: RunCurves; invocations: InvocationMetrics[] } {
  const ms = invocationMetrics(outcome.records, bundle.workload, bundle.classes?.of);
  const groups: Record<string, Summary> = {};
  for (const [k, v] of splitBy(ms, (m) => m.group)) groups[k] = summarise(v, srpt);
  const run: RunReport = {
    scheduler: outcome.scheduler,
    label: outcome.label ?? outcome.scheduler,
    cpus,
    ...summarise(ms, srpt),
    contextSwitches: outcome.contextSwitches,
    switchesPerInvocation: ms.length ? outcome.contextSwitches / ms.length : 0,
    makespanMs: nsToMs(outcome.makespanNs),
    utilisation:
      outcome.busyNsPerCpu && outcome.makespanNs > 0
        ? outcome.busyNsPerCpu.reduce((a, b) => a + b, 0) / (cpus * outcome.makespanNs)
        : null,
    events: outcome.events ?? null,
    policyGenerations: outcome.policies?.length ?? 0,
    wallMs: outcome.wallMs,
    groups,
  };
  if (bundle.classes) {
    const classes: Record<string, Summary & { label: string }> = {};
    for (const [k, v] of splitBy(ms, (m) => m.cls)) classes[k] = { label: bundle.classes.labels[k] ?? k, ...summarise(v, srpt) };
    run.classes = classes;
  }
  return { run, curves: runCurves(ms, outcome.records), invocations: ms };
}
