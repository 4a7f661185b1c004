import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../src/sim/index.js';
import { MS, cpu, fixedLearner, workload } from '../../support/sim.js';

/**
 * The in-kernel ALPS model's rank-aware rules (src/sim/models/alps.ts), which the sched_ext
 * scheduler implements the same way: a strictly better-ranked arrival goes to the CPU running
 * the worst-ranked task it outranks and preempts it there at once, whatever that task's learned
 * slice; the learned slice only holds off equal- or worse-ranked tasks.
 */
const learner = fixedLearner(
  [
    { funcId: 1, rank: 1, sliceNs: 50 * MS },
    { funcId: 2, rank: 2, sliceNs: 0 },
    { funcId: 3, rank: 3, sliceNs: 200 * MS },
  ],
  1 * MS,
);

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`a better-ranked arrival preempts the worst-ranked running task, not the one its CPU would queue it behind (seed ${seed})`, () => {
    const w = workload([
      { at: 2 * MS, phases: [cpu(100 * MS)], funcId: 1 },
      { at: 2 * MS + 1, phases: [cpu(300 * MS)], funcId: 3 },
      { at: 10 * MS, phases: [cpu(20 * MS)], funcId: 2 },
    ]);
    const r = simulate(w, { cpus: 2, scheduler: 'alps', seed, ctxSwitchNs: 2000 }, { learner });
    const [one, three, two] = r.records;
    assert.ok(two!.firstWaitNs! < 0.1 * MS, `rank 2 waited ${two!.firstWaitNs! / MS} ms`);
    assert.equal(two!.slicesNs!.length, 1);
    assert.equal(one!.slicesNs!.length, 1, 'the rank-1 task is never preempted');
    assert.ok(three!.slicesNs!.length >= 2, 'the rank-3 task is preempted despite its 200 ms slice');
  });
}

test('an equal-ranked arrival waits for the running task’s learned slice', () => {
  const w = workload([
    { at: 2 * MS, phases: [cpu(300 * MS)], funcId: 3 },
    { at: 10 * MS, phases: [cpu(20 * MS)], funcId: 3 },
  ]);
  const r = simulate(w, { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 2000 }, { learner });
  assert.ok(r.records[1]!.firstWaitNs! >= 190 * MS, `waited ${r.records[1]!.firstWaitNs! / MS} ms`);
});
