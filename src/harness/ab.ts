import type { SchedulerName, SimOptions, SimResult, Simulate } from '../core/sim.js';
import type { WorkloadBundle } from '../workload/bundle.js';
import { buildRunReport, turnaroundById, workloadHeader, type ComparisonResult, type RunOutcome } from './report.js';
import type { InvocationMetrics, RunCurves } from './metrics.js';

/**
 * A/B runner: run several schedulers (or one scheduler in several configurations) on the same
 * workload with the same seed and put them in one report. `compare` (real kernels) reuses
 * `compareOutcomes` with outcomes it measured itself, so both print the same report.
 */
export interface AbVariant {
  scheduler: SchedulerName;
  /** Display name; defaults to the scheduler name. Labels must be unique within a run. */
  label?: string;
  /** Per-variant simulator options (learner parameters, tunables, ctx-switch cost, …). */
  options?: Partial<Omit<SimOptions, 'cpus' | 'scheduler' | 'seed'>>;
  /** Run this variant with another simulator (e.g. one that plugs a custom agent into src/sim). */
  simulate?: Simulate;
}

/** Progress of a multi-run comparison (see progress.ts for the terminal bar). */
export interface ProgressSink {
  start(label: string, index: number, total: number): void;
  update(fractionDone: number): void;
  stop(): void;
}

export interface AbOptions {
  bundle: WorkloadBundle;
  variants: readonly (SchedulerName | AbVariant)[];
  seed: number;
  simulate: Simulate;
  /** Options every variant shares (hz, ctxSwitchNs, learner defaults). */
  base?: Partial<Omit<SimOptions, 'cpus' | 'scheduler' | 'seed'>>;
  /**
   * Compute "share slower than SRPT" against an SRPT run of the same workload. When plain
   * `srpt` is one of the variants its run is reused; otherwise an extra SRPT run is made.
   * Default true.
   */
  srptReference?: boolean;
  progress?: ProgressSink;
}

export function normaliseVariant(v: SchedulerName | AbVariant): AbVariant {
  return typeof v === 'string' ? { scheduler: v } : v;
}

/** Run one variant and time it. */
export function runVariant(
  simulate: Simulate,
  bundle: WorkloadBundle,
  v: AbVariant,
  seed: number,
  base: AbOptions['base'] = {},
  onProgress?: (f: number) => void,
): RunOutcome & { result: SimResult } {
  const options: SimOptions = {
    ...base,
    ...v.options,
    cpus: bundle.cpus,
    scheduler: v.scheduler,
    seed,
  };
  if (base.learner || v.options?.learner) options.learner = { ...base.learner, ...v.options?.learner };
  if (base.tunables || v.options?.tunables) options.tunables = { ...base.tunables, ...v.options?.tunables };
  if (onProgress) options.onProgress = onProgress;
  const t0 = performance.now();
  const result = (v.simulate ?? simulate)(bundle.workload, options);
  const wallMs = performance.now() - t0;
  const expected = bundle.workload.invocations.length;
  if (result.records.length !== expected) {
    throw new Error(`simulator returned ${result.records.length} records for ${expected} invocations (scheduler ${v.scheduler})`);
  }
  return {
    scheduler: v.scheduler,
    label: v.label ?? v.scheduler,
    records: result.records,
    contextSwitches: result.contextSwitches,
    makespanNs: result.makespanNs,
    busyNsPerCpu: result.busyNsPerCpu,
    events: result.events,
    policies: result.policies,
    wallMs,
    result,
  };
}

export function runAB(opts: AbOptions): ComparisonResult {
  const variants = opts.variants.map(normaliseVariant);
  const labels = new Set<string>();
  for (const v of variants) {
    const l = v.label ?? v.scheduler;
    if (labels.has(l)) throw new Error(`duplicate run label "${l}"`);
    labels.add(l);
  }
  const wantRef = opts.srptReference ?? true;
  const plainSrpt = variants.findIndex((v) => v.scheduler === 'srpt' && v.options === undefined);
  const total = variants.length + (wantRef && plainSrpt < 0 ? 1 : 0);
  const outcomes: RunOutcome[] = [];
  let srptRef: RunOutcome | undefined;
  let index = 0;
  const run = (v: AbVariant): RunOutcome => {
    opts.progress?.start(v.label ?? v.scheduler, index++, total);
    const o = runVariant(opts.simulate, opts.bundle, v, opts.seed, opts.base, opts.progress ? (f) => opts.progress!.update(f) : undefined);
    return o;
  };
  try {
    if (wantRef && plainSrpt < 0) srptRef = run({ scheduler: 'srpt', label: 'srpt (reference)' });
    for (const v of variants) outcomes.push(run(v));
  } finally {
    opts.progress?.stop();
  }
  if (wantRef && plainSrpt >= 0) srptRef = outcomes[plainSrpt];
  return compareOutcomes(opts.bundle, opts.seed, outcomes, srptRef?.records);
}

/** Build the comparison report from finished runs (simulated or real). */
export function compareOutcomes(
  bundle: WorkloadBundle,
  seed: number,
  outcomes: readonly RunOutcome[],
  srptRecords?: RunOutcome['records'],
): ComparisonResult {
  const ref = srptRecords ? turnaroundById(srptRecords) : undefined;
  const curves: Record<string, RunCurves> = {};
  const invocations: Record<string, InvocationMetrics[]> = {};
  const runs = outcomes.map((o) => {
    const { run, curves: c, invocations: ms } = buildRunReport(bundle, bundle.cpus, o, ref);
    curves[run.label] = c;
    invocations[run.label] = ms;
    return run;
  });
  return { report: { workload: workloadHeader(bundle, seed), runs }, curves, invocations };
}
