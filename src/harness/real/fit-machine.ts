/**
 * Fitting the simulated machine to real runs: the parameters a calibration run cannot read off
 * the guest directly (the context-switch cost and the CPU capacity factor, which absorbs what the
 * model leaves out: the invoker's own CPU, cache and TLB refills after a fork, wake-up latency)
 * are chosen on a grid to minimise the sim-vs-real error of mean turnaround, overall and per
 * Table 1 group, of the default scheduler. The same machine then serves every scheduler model:
 * there is no per-scheduler factor, so ALPS's prediction on the calibrated machine is a test,
 * not a fit.
 *
 * Error of one real run: the root mean square of ln(sim / real) over the overall mean and the
 * mean of every group with at least `minGroup` invocations (ln, so 0.8× and 1.25× weigh alike;
 * groups, so one large mean cannot hide the short functions going wrong). Several runs
 * (targets) are pooled by RMS too.
 */
import type { MachineProfile } from '../../core/sim.js';
import type { SimRealStats } from './real-ab.js';

/** Smallest group whose mean enters the error (a p99 of 3 invocations is noise). */
export const MIN_FIT_GROUP = 10;

/** ln-ratios of the means the error compares. */
function logRatios(sim: SimRealStats, real: SimRealStats, minGroup: number): number[] {
  const r = [Math.log(sim.meanMs / real.meanMs)];
  for (const [g, s] of Object.entries(real.groups)) {
    const p = sim.groups[g];
    if (s.n >= minGroup && p && p.meanMs > 0 && s.meanMs > 0) r.push(Math.log(p.meanMs / s.meanMs));
  }
  return r;
}

/** RMS of ln(sim / real) over the overall mean and the groups' means. */
export function fitError(sim: SimRealStats, real: SimRealStats, minGroup = MIN_FIT_GROUP): number {
  const r = logRatios(sim, real, minGroup);
  return Math.sqrt(r.reduce((a, x) => a + x * x, 0) / r.length);
}

/** One real run to match: its measured statistics and the simulator's prediction for a machine. */
export interface FitTarget {
  real: SimRealStats;
  predict: (m: MachineProfile) => SimRealStats;
}

/** The values tried for each fitted parameter (the rest come from the measured profile). */
export interface FitGrid {
  ctxSwitchNs: readonly number[];
  cpuCapacity: readonly number[];
}

/**
 * The default grid: context switches from Linux's direct cost on hardware (2 µs) to what an
 * emulated switch may cost under TCG (100 µs); capacity 0.50–1.70 in 2% steps (244 machines).
 * The capacity range is wide because it also absorbs a background share measured on an idle
 * guest that the busy guest does not pay (docs/vm.md: an idle icount guest looks 39–54% busy).
 */
export const DEFAULT_FIT_GRID: FitGrid = {
  ctxSwitchNs: [2_000, 10_000, 30_000, 100_000],
  cpuCapacity: Array.from({ length: 61 }, (_, i) => Math.round((0.5 + i * 0.02) * 100) / 100),
};

/** True when the fitted value of a parameter sits on the edge of its grid (the fit may want beyond it). */
export function onGridEdge(fit: MachineFit, grid: FitGrid = DEFAULT_FIT_GRID): string[] {
  const edge = (xs: readonly number[], x: number): boolean => xs.length > 1 && (x === xs[0] || x === xs[xs.length - 1]);
  const out: string[] = [];
  if (edge(grid.ctxSwitchNs, fit.machine.ctxSwitchNs)) out.push('ctxSwitchNs');
  if (edge(grid.cpuCapacity, fit.machine.cpuCapacity)) out.push('cpuCapacity');
  return out;
}

export interface FitPoint {
  ctxSwitchNs: number;
  cpuCapacity: number;
  error: number;
}

export interface MachineFit {
  machine: MachineProfile;
  error: number;
  /** Every grid point, in grid order (ctx outer, capacity inner). */
  points: FitPoint[];
  /** Error of the measured profile before fitting (its own ctx and capacity). */
  unfittedError: number;
}

/** Pooled error of `m` over every target. */
export function machineError(m: MachineProfile, targets: readonly FitTarget[], minGroup = MIN_FIT_GROUP): number {
  const r = targets.flatMap((t) => logRatios(t.predict(m), t.real, minGroup));
  return Math.sqrt(r.reduce((a, x) => a + x * x, 0) / r.length);
}

/**
 * Grid search for the context-switch cost and capacity that minimise the pooled error, the
 * other fields of `measured` fixed. Deterministic: ties go to the first point in grid order.
 */
export function fitMachine(measured: MachineProfile, targets: readonly FitTarget[], grid: FitGrid = DEFAULT_FIT_GRID): MachineFit {
  if (!targets.length) throw new Error('fitMachine: no targets');
  if (!grid.ctxSwitchNs.length || !grid.cpuCapacity.length) throw new Error('fitMachine: empty grid');
  const points: FitPoint[] = [];
  let best: FitPoint | undefined;
  for (const ctxSwitchNs of grid.ctxSwitchNs) {
    for (const cpuCapacity of grid.cpuCapacity) {
      const error = machineError({ ...measured, ctxSwitchNs, cpuCapacity }, targets);
      const p = { ctxSwitchNs, cpuCapacity, error };
      points.push(p);
      if (!best || error < best.error) best = p;
    }
  }
  return {
    machine: { ...measured, ctxSwitchNs: best!.ctxSwitchNs, cpuCapacity: best!.cpuCapacity },
    error: best!.error,
    points,
    unfittedError: machineError(measured, targets),
  };
}

/**
 * Growth of turnaround through a run: mean turnaround of the last third of the invocations (by
 * arrival) over that of the first third. A stationary queue keeps it near 1; an overloaded host
 * (the real run past saturation, e.g. a TCG guest starved by a busy host) makes it grow with the
 * run's length, and then no machine fitted to that run's mean predicts another run's.
 */
export function turnaroundGrowth(records: readonly { arrivalNs: number; endNs: number }[]): number {
  const r = [...records].sort((a, b) => a.arrivalNs - b.arrivalNs);
  const k = Math.floor(r.length / 3);
  if (k < 1) return NaN;
  const mean = (xs: typeof r): number => xs.reduce((a, x) => a + (x.endNs - x.arrivalNs), 0) / xs.length;
  return mean(r.slice(r.length - k)) / mean(r.slice(0, k));
}

/** Growth above which a calibration run counts as not stationary (calibrate warns). */
export const MAX_STATIONARY_GROWTH = 2;
