import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SfsModel, SFS_DEFAULTS } from '../../../src/sim/models/sfs.js';
import { FakeMachine, MS, task } from '../../support/sim.js';

test('SFS slice: S = max(6 ms, mean gap of the last 200 arrivals × CPUs, whole ms), from 20 ms', () => {
  const run = (ncpus: number, gapNs: number): number[] => {
    const m = new FakeMachine(ncpus);
    const sfs = new SfsModel(ncpus, SFS_DEFAULTS);
    sfs.attach(m);
    const seen: number[] = [];
    for (let i = 0; i < 401; i++) {
      m.now = i * gapNs;
      sfs.onArrival(task());
      if (i === 0 || i === 199 || i === 200 || i === 400) seen.push(sfs.sliceNs);
    }
    return seen;
  };
  // 4 CPUs, 2.6 ms gaps → 10.4 ms → 10 ms after the first 200 arrivals.
  assert.deepEqual(run(4, 2.6 * MS), [20 * MS, 20 * MS, 10 * MS, 10 * MS]);
  // 1 CPU, 2.6 ms gaps → floor at 6 ms.
  assert.deepEqual(run(1, 2.6 * MS), [20 * MS, 20 * MS, 6 * MS, 6 * MS]);
});

test('a new SFS job gets the current S as its level-1 budget', () => {
  const m = new FakeMachine(2);
  const sfs = new SfsModel(2, { ...SFS_DEFAULTS, initialSliceNs: 9 * MS });
  sfs.attach(m);
  const t = task();
  sfs.onArrival(t);
  assert.equal(t.budgetNs, 9 * MS);
});
