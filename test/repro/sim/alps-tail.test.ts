import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../src/sim/index.js';
import { OVERDUE_MIN_CPU_NS, OVERDUE_WAIT_FACTOR } from '../../../src/sim/models/alps.js';
import { MS, cpu, fixedLearner, workload } from '../../support/sim.js';

/**
 * The in-kernel ALPS model's tail protection (src/sim/models/alps.ts, docs/simulator.md "ALPS
 * tail protection"): FCFS within a rank, and the lag bound that runs a long task which has waited
 * more than K × its CPU at rank 0.
 */
const learner = fixedLearner(
  [
    { funcId: 1, rank: 1, sliceNs: 0 },
    { funcId: 3, rank: 3, sliceNs: 0 },
  ],
  1 * MS,
);

test('lag bound: a worst-ranked long task under a saturating stream of better-ranked work finishes with slowdown ≈ K + 1', () => {
  // 1 CPU. The long task runs alone for 250 ms (past OVERDUE_MIN_CPU_NS), then rank-1 jobs of
  // 10 ms arrive every 10 ms for 6 s: 100 % load of better-ranked work. Static ranks alone would
  // hold the long task back until the stream ends (end ≥ 6.75 s).
  const items = [{ at: 0, phases: [cpu(1000 * MS)], funcId: 3 }];
  for (let at = 250 * MS; at < 6250 * MS; at += 10 * MS) items.push({ at, phases: [cpu(10 * MS)], funcId: 1 });
  const r = simulate(workload(items), { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 0 }, { learner });
  const long = r.records[0]!;
  assert.equal(long.cpuNs, 1000 * MS);
  // Bound: wait ≤ K × CPU plus what one tick / one short job can add once it turns overdue.
  const waitBound = OVERDUE_WAIT_FACTOR * long.cpuNs + 2 * 10 * MS;
  assert.ok(long.waitNs! <= waitBound, `waited ${long.waitNs! / MS} ms > ${waitBound / MS} ms`);
  assert.ok(long.endNs < 3300 * MS, `long task ended at ${long.endNs / MS} ms`);
  // …and only then: it is not promoted while its wait is under the bound.
  assert.ok(long.waitNs! >= (OVERDUE_WAIT_FACTOR - 0.2) * long.cpuNs, `waited only ${long.waitNs! / MS} ms`);
});

test('lag bound: a task that has not outrun the slice cap keeps its static rank', () => {
  const items = [{ at: 0, phases: [cpu(OVERDUE_MIN_CPU_NS / 2 + 100 * MS)], funcId: 3 }];
  for (let at = OVERDUE_MIN_CPU_NS / 2; at < 2000 * MS; at += 10 * MS) items.push({ at, phases: [cpu(10 * MS)], funcId: 1 });
  const r = simulate(workload(items), { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 0 }, { learner });
  assert.ok(r.records[0]!.endNs >= 2000 * MS, `ended at ${r.records[0]!.endNs / MS} ms, before the stream`);
});

test('FCFS within a rank: the older of two equal-ranked long tasks finishes first, at its own length', () => {
  const w = workload([
    { at: 0, phases: [cpu(300 * MS)], funcId: 3 },
    { at: 1 * MS, phases: [cpu(300 * MS)], funcId: 3 },
  ]);
  const r = simulate(w, { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 0 }, { learner });
  const [older, younger] = r.records;
  assert.ok(older!.endNs <= 305 * MS, `older ended at ${older!.endNs / MS} ms`);
  assert.equal(older!.slicesNs!.length, 1);
  assert.ok(younger!.endNs >= 600 * MS);
  // CFS shares the CPU: both finish near 600 ms.
  const cfs = simulate(w, { cpus: 1, scheduler: 'cfs', seed: 1, ctxSwitchNs: 0 });
  assert.ok(cfs.records[0]!.endNs > 550 * MS);
});
