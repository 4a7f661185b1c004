/**
 * `ghost-alps calibrate`: measure a real host (the sched_ext VM, or the machine it runs on) and
 * fit the simulator's machine to it.
 *
 * 1. Measured directly (calibrate.ts's calibration boot): background CPU share (idle guest),
 *    CPU per invocation beyond its demand (→ launchCpuNs), the tick rate (jiffies over the idle
 *    sleep) and the fair class's base slice (debugfs).
 * 2. Replayed: a small Table 1 trace at the target real load under the kernel's default
 *    scheduler, `repetitions` times in one boot (the median run is kept, as compare does).
 * 3. Fitted (fit-machine.ts): context-switch cost and capacity, by simulating the exact trace
 *    that ran (arrival gaps as calibrated) under the EEVDF model on candidate machines.
 *
 * Only the default scheduler is replayed: ALPS's real runs stay out of the fit, so they can test it.
 */
import type { MachineProfile } from '../../core/sim.js';
import type { Workload } from '../../core/workload.js';
import type { InvocationRecord } from '../../core/records.js';
import { DEFAULT_MACHINE, simulate, tunableFactor } from '../../sim/index.js';
import { table1Workload } from '../../workload/index.js';
import type { Calibration } from './calibrate.js';
import { runCalibratedAb, type GuestRunner } from './calibrated-ab.js';
import { DEFAULT_FIT_GRID, fitMachine, turnaroundGrowth, type FitGrid, type MachineFit } from './fit-machine.js';
import { simRealStats, type SimRealStats } from './real-ab.js';

/** Simulator seeds a prediction averages over (the machine's tick phase and placements vary by seed). */
export const PREDICTION_SEEDS = [1, 2];

/** The simulator's statistics for `w` on machine `m`, records of every seed pooled. */
export function predictStats(w: Workload, cpus: number, scheduler: string, m: MachineProfile, seeds: readonly number[] = PREDICTION_SEEDS): SimRealStats {
  const records: InvocationRecord[] = [];
  for (const seed of seeds) records.push(...simulate(w, { cpus, scheduler, seed, machine: m }).records);
  return simRealStats(w, records);
}

export interface MachineCalibrationOptions {
  mix: 'huawei' | 'azure';
  invocations: number;
  cpus: number;
  /** Real utilisation of the replay (as compare --real --load). */
  load: number;
  scale: number;
  seed: number;
  repetitions: number;
  run: GuestRunner;
  grid?: FitGrid;
  onPhase?: (what: string) => void;
}

export interface MachineCalibration {
  /** The profile read off the host before fitting (ctx and capacity at their defaults). */
  measured: MachineProfile;
  fit: MachineFit;
  calibration: Calibration;
  real: SimRealStats;
  /** The EEVDF model's prediction for the replay on the fitted machine. */
  sim: SimRealStats;
  /** Mean turnaround of every repetition of the replay, ms. */
  repetitionMeansMs: number[];
  /** What was measured how: the machine file's provenance. */
  provenance: Record<string, unknown>;
  /** Last-third over first-third mean turnaround of the fitted replay (≫ 1: the host was overloaded). */
  growth: number;
}

/** Best capacity and its error for every context-switch cost of the grid (the fit's error surface, one row per cost). */
export function bestPerCtxSwitch(fit: MachineFit): { ctxSwitchNs: number; cpuCapacity: number; error: number }[] {
  const best = new Map<number, { ctxSwitchNs: number; cpuCapacity: number; error: number }>();
  for (const p of fit.points) {
    const b = best.get(p.ctxSwitchNs);
    if (!b || p.error < b.error) best.set(p.ctxSwitchNs, { ctxSwitchNs: p.ctxSwitchNs, cpuCapacity: p.cpuCapacity, error: Math.round(p.error * 1e4) / 1e4 });
  }
  return [...best.values()];
}

/** The measured half of the profile, from the calibration boot. */
export function measuredProfile(c: Calibration, cpus: number): MachineProfile {
  return {
    ...DEFAULT_MACHINE,
    hz: c.hz ?? DEFAULT_MACHINE.hz,
    launchCpuNs: Math.round(c.overheadNs),
    backgroundLoad: Math.min(0.9, Math.max(0, c.background)),
    // debugfs shows the slice the kernel scaled for this CPU count; the file keeps the one-CPU value.
    baseSliceNs: c.baseSliceNs !== undefined ? Math.round(c.baseSliceNs / tunableFactor(cpus)) : DEFAULT_MACHINE.baseSliceNs,
  };
}

export async function calibrateMachine(o: MachineCalibrationOptions): Promise<MachineCalibration> {
  const bundle = table1Workload({ mix: o.mix, invocations: o.invocations, cpus: o.cpus, load: o.load, seed: o.seed });
  const r = await runCalibratedAb({
    bundle,
    schedulers: ['default'],
    cpus: o.cpus,
    load: o.load,
    scale: o.scale,
    seed: o.seed,
    run: o.run,
    repetitions: o.repetitions,
    ...(o.onPhase ? { onPhase: o.onPhase } : {}),
  });
  const cal = r.calibration!;
  const arm = r.arms[0]!;
  const w = r.bundle.workload;
  const real = simRealStats(w, arm.outcome.records);
  const growth = turnaroundGrowth(arm.outcome.records);
  const measured = measuredProfile(cal, o.cpus);
  o.onPhase?.('fitting the simulated machine (context switch, capacity)');
  const fit = fitMachine(measured, [{ real, predict: (m) => predictStats(w, o.cpus, 'eevdf', m) }], o.grid ?? DEFAULT_FIT_GRID);
  const sim = predictStats(w, o.cpus, 'eevdf', fit.machine);
  const provenance: Record<string, unknown> = {
    tool: 'ghost-alps calibrate',
    date: new Date().toISOString(),
    replay: { workload: o.mix, invocations: o.invocations, cpus: o.cpus, load: o.load, scale: o.scale, seed: o.seed, repetitions: o.repetitions, gapFactor: r.gapFactor },
    measured: {
      backgroundLoad: cal.background,
      launchCpuNs: Math.round(cal.overheadNs),
      hz: cal.hz ?? 'not measured (no /proc/timer_list): default',
      baseSliceNsScaled: cal.baseSliceNs ?? 'not measured (no debugfs): default',
      utilisation: arm.cpu.utilisation,
    },
    fitted: { ctxSwitchNs: fit.machine.ctxSwitchNs, cpuCapacity: fit.machine.cpuCapacity, error: fit.error, unfittedError: fit.unfittedError, simulatorSeeds: PREDICTION_SEEDS },
    // How sharply the replay pins the context-switch cost: the best capacity and error at each grid value.
    fitByCtxSwitch: bestPerCtxSwitch(fit),
    realMeanMs: real.meanMs,
    turnaroundGrowth: growth,
    simMeanMs: sim.meanMs,
    repetitionMeansMs: arm.repetitionMeansMs,
  };
  return { measured, fit, calibration: cal, real, sim, repetitionMeansMs: arm.repetitionMeansMs, provenance, growth };
}
