import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer } from '../../../src/sim/balance.js';
import { CfsModel } from '../../../src/sim/models/cfs.js';
import { FakeMachine, MS, task } from '../../support/sim.js';

function setup(ncpus: number) {
  const m = new FakeMachine(ncpus);
  const cfs = new CfsModel(ncpus);
  cfs.attach(m);
  const b = new Balancer(m, cfs, cfs.lb);
  return { m, cfs, b };
}

test('newidle pulls half the difference, skipping cache-hot tasks', () => {
  const { m, cfs, b } = setup(2);
  m.now = 100 * MS;
  m.running[0] = task();
  const hot = task();
  hot.lastRanNs = 99.8 * MS; // ran 0.2 ms ago (< 0.5 ms migration cost)
  const cold1 = task();
  cold1.lastRanNs = 90 * MS;
  const cold2 = task();
  for (const t of [hot, cold1, cold2]) cfs.enqueue(0, t, 'wakeup');
  assert.equal(cfs.lb.nrRunning(0), 4);
  assert.equal(b.newidle(1), true);
  // (4 − 0) / 2 = 2 tasks move, neither of them the hot one.
  assert.equal(cfs.queuedOn(1), 2);
  assert.equal(hot.cpu, 0);
  assert.equal(cold1.cpu, 1);
  assert.equal(cold2.cpu, 1);
});

test('no migration for a 2-vs-1 imbalance between busy CPUs', () => {
  const { m, cfs, b } = setup(2);
  m.now = 100 * MS;
  m.running[0] = task();
  m.running[1] = task();
  const q = task();
  cfs.enqueue(0, q, 'wakeup');
  m.now = 10_000 * MS; // periodic balance due on CPU 1
  b.tick(1);
  assert.equal(q.cpu, 0);
});

test('nohz idle balance: the tick of an overloaded CPU makes an idle CPU pull', () => {
  const { m, cfs, b } = setup(2);
  m.now = 100 * MS;
  m.running[0] = task();
  const q = task();
  cfs.enqueue(0, q, 'new');
  b.tick(0);
  assert.equal(q.cpu, 1);
  assert.deepEqual(m.rescheds, [1]);
});

test('wake-up placement: prev if idle, else an idle CPU, else prev; fork placement prefers idle CPUs', () => {
  const { m, b } = setup(4);
  m.running[0] = task();
  m.running[1] = task();
  assert.equal(b.placeWakeup(2), 2);
  assert.equal(b.placeWakeup(0), 2);
  m.running[2] = task();
  m.running[3] = task();
  assert.equal(b.placeWakeup(1), 1);
  m.running[3] = null;
  assert.equal(b.placeNew(0), 3);
});
