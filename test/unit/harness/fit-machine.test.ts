import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MACHINE } from '../../../src/sim/index.js';
import { bestPerCtxSwitch, predictStats } from '../../../src/harness/real/calibrate-machine.js';
import { fitError, fitMachine, turnaroundGrowth, type FitGrid } from '../../../src/harness/real/fit-machine.js';
import type { SimRealStats } from '../../../src/harness/real/real-ab.js';
import { parseProbes } from '../../../src/harness/real/calibrate.js';
import { table1Workload } from '../../../src/workload/index.js';

const stats = (meanMs: number, groups: Record<string, [number, number]>): SimRealStats => ({
  meanMs,
  p50Ms: meanMs,
  p99Ms: meanMs,
  groups: Object.fromEntries(Object.entries(groups).map(([g, [n, m]]) => [g, { n, meanMs: m, p99Ms: m }])),
});

test('fitError: RMS of ln(sim/real) over the mean and every group with enough invocations', () => {
  const real = stats(100, { '1': [50, 10], '2': [20, 200], '4': [3, 1000] });
  assert.equal(fitError(real, real), 0);
  // Group 4 (3 invocations) is ignored; mean ×2, group 1 ×2, group 2 exact.
  const sim = stats(200, { '1': [50, 20], '2': [20, 200], '4': [3, 1] });
  assert.ok(Math.abs(fitError(sim, real) - Math.log(2) * Math.sqrt(2 / 3)) < 1e-12);
  // Symmetric in ratio: half is as wrong as double.
  assert.ok(Math.abs(fitError(stats(50, {}), stats(100, {})) - fitError(stats(200, {}), stats(100, {}))) < 1e-12);
});

test('fitMachine recovers the machine that produced synthetic "real" runs, deterministically', () => {
  // "Real": the EEVDF model on a known machine; the fit starts from the measured fields only.
  const truth = { ...DEFAULT_MACHINE, launchCpuNs: 3_000_000, backgroundLoad: 0.05, ctxSwitchNs: 30_000, cpuCapacity: 0.86 };
  const w = table1Workload({ mix: 'huawei', invocations: 300, cpus: 2, load: 0.8, seed: 7 }).workload;
  const real = predictStats(w, 2, 'eevdf', truth);
  const measured = { ...truth, ctxSwitchNs: DEFAULT_MACHINE.ctxSwitchNs, cpuCapacity: 1 };
  const grid: FitGrid = { ctxSwitchNs: [2_000, 30_000, 100_000], cpuCapacity: [0.8, 0.83, 0.86, 0.9, 0.95, 1] };
  const target = [{ real, predict: (m: typeof truth) => predictStats(w, 2, 'eevdf', m) }];
  const fit = fitMachine(measured, target, grid);
  assert.equal(fit.machine.cpuCapacity, 0.86);
  assert.equal(fit.machine.ctxSwitchNs, 30_000);
  assert.equal(fit.error, 0);
  assert.ok(fit.unfittedError > 0.05, `unfitted error ${fit.unfittedError}`);
  assert.equal(fit.points.length, 18);
  // Measured fields are kept as they are.
  assert.equal(fit.machine.launchCpuNs, 3_000_000);
  assert.equal(fit.machine.backgroundLoad, 0.05);
  assert.deepEqual(fitMachine(measured, target, grid), fit);
});

test('fitMachine: ties go to the first grid point; empty inputs are refused', () => {
  const real = stats(100, {});
  const flat = [{ real, predict: () => real }];
  const fit = fitMachine(DEFAULT_MACHINE, flat, { ctxSwitchNs: [5_000, 9_000], cpuCapacity: [0.9, 1] });
  assert.deepEqual([fit.machine.ctxSwitchNs, fit.machine.cpuCapacity], [5_000, 0.9]);
  assert.throws(() => fitMachine(DEFAULT_MACHINE, [], { ctxSwitchNs: [1], cpuCapacity: [1] }), /no targets/);
  assert.throws(() => fitMachine(DEFAULT_MACHINE, flat, { ctxSwitchNs: [], cpuCapacity: [1] }), /empty grid/);
});

test('parseProbes: tick rate from jiffies over uptime, snapped to a CONFIG_HZ; base slice from debugfs', () => {
  const lines = ['probe base_slice_ns 1400000', 'probe clock begin 10.00 4294937296', 'noise', 'probe clock end 12.01 4294937800'];
  assert.deepEqual(parseProbes(lines), { hz: 250, baseSliceNs: 1_400_000 });
  assert.deepEqual(parseProbes(['probe clock begin 1.00 100', 'probe clock end 2.00 1098']), { hz: 1000 });
  // No timer_list / no debugfs: nothing measured, the caller keeps its defaults.
  assert.deepEqual(parseProbes(['probe base_slice_ns ', 'probe clock begin 1.00 ', 'probe clock end 3.00 ']), {});
});

test('turnaroundGrowth: ~1 for a stationary run, large when the queue grows through it', () => {
  const flat = Array.from({ length: 30 }, (_, i) => ({ arrivalNs: i * 10, endNs: i * 10 + 5 }));
  assert.equal(turnaroundGrowth(flat), 1);
  const growing = Array.from({ length: 30 }, (_, i) => ({ arrivalNs: i * 10, endNs: i * 10 + 5 * (i + 1) }));
  assert.ok(Math.abs(turnaroundGrowth(growing) - 255 / 55) < 1e-12);
  // Order of the records does not matter (arrival order is used).
  assert.equal(turnaroundGrowth([...growing].reverse()), turnaroundGrowth(growing));
  assert.ok(Number.isNaN(turnaroundGrowth(flat.slice(0, 2))));
});

test('bestPerCtxSwitch: the best capacity and error for each context-switch cost, in grid order (how sharply the fit pins ctx)', () => {
  const real = stats(100, {});
  // Error depends on both parameters; the best capacity differs per ctx value.
  const target = [{ real, predict: (m: typeof DEFAULT_MACHINE) => stats(100 * m.cpuCapacity * (1 + m.ctxSwitchNs / 1e6), {}) }];
  const fit = fitMachine(DEFAULT_MACHINE, target, { ctxSwitchNs: [0, 100_000], cpuCapacity: [0.9, 1, 1.1] });
  const rows = bestPerCtxSwitch(fit);
  assert.deepEqual(rows.map((r) => [r.ctxSwitchNs, r.cpuCapacity]), [[0, 1], [100_000, 0.9]]);
  assert.equal(rows[0]!.error, 0);
  assert.equal(rows[1]!.error, Math.round(Math.abs(Math.log(0.99)) * 1e4) / 1e4);
  assert.equal(Math.min(...rows.map((r) => r.error)), Math.round(fit.error * 1e4) / 1e4);
});
