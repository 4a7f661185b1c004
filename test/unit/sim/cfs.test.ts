import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../src/sim/index.js';
import { fairTunables, tunableFactor } from '../../../src/sim/linux.js';
import { CfsModel } from '../../../src/sim/models/cfs.js';
import { FakeMachine, MS, cpu, task, workload } from '../../support/sim.js';

test('tunables scale like Linux: factor 1 + ilog2(min(ncpus, 8))', () => {
  assert.deepEqual([1, 2, 3, 4, 7, 8, 16, 56].map(tunableFactor), [1, 2, 2, 3, 3, 4, 4, 4]);
  const t = fairTunables(56);
  assert.equal(t.latencyNs, 24 * MS);
  assert.equal(t.minGranularityNs, 3 * MS);
  assert.equal(t.wakeupGranularityNs, 4 * MS);
  assert.equal(fairTunables(1).latencyNs, 6 * MS);
});

test('equal CPU-bound tasks share one CPU equally (all finish together, unlike FIFO)', () => {
  const w = workload([0, 0, 0].map(() => ({ at: 0, phases: [cpu(300 * MS)] })));
  const r = simulate(w, { cpus: 1, scheduler: 'cfs', seed: 1, ctxSwitchNs: 0 });
  const ends = r.records.map((x) => x.endNs).sort((a, b) => a - b);
  assert.equal(ends[2], 900 * MS);
  assert.ok(ends[0]! > 880 * MS, `first finished at ${ends[0]! / MS} ms`);
  const fifo = simulate(w, { cpus: 1, scheduler: 'fifo', seed: 1, ctxSwitchNs: 0 });
  assert.deepEqual(fifo.records.map((x) => x.endNs / MS).sort((a, b) => a - b), [300, 600, 900]);
});

test('16 equal tasks on 8 CPUs: fork placement spreads them 2 per CPU and they finish together', () => {
  const w = workload(Array.from({ length: 16 }, () => ({ at: 0, phases: [cpu(200 * MS)] })));
  const r = simulate(w, { cpus: 8, scheduler: 'cfs', seed: 3, ctxSwitchNs: 0 });
  for (const x of r.records) {
    assert.ok(x.endNs > 370 * MS && x.endNs <= 400 * MS, `task ${x.id} ended at ${x.endNs / MS} ms`);
  }
  for (const b of r.busyNsPerCpu) assert.equal(b, 400 * MS);
});

function middleSlices(r: ReturnType<typeof simulate>): number[] {
  return r.records.flatMap((x) => x.slicesNs!.slice(1, -1));
}

test('latency target: 3 tasks on 1 CPU get sched_latency/3 = 2 ms slices, preempted at the next tick', () => {
  const w = workload([0, 0, 0].map(() => ({ at: 0, phases: [cpu(100 * MS)] })));
  const r = simulate(w, { cpus: 1, scheduler: 'cfs', seed: 5, ctxSwitchNs: 0, hz: 1000 });
  const s = middleSlices(r);
  assert.ok(s.length > 50);
  for (const x of s) assert.ok(x > 2 * MS && x <= 3 * MS, `slice ${x / MS} ms`);
});

test('min granularity: beyond sched_nr_latency tasks the slice floors at 0.75 ms × factor', () => {
  const w = workload(Array.from({ length: 12 }, () => ({ at: 0, phases: [cpu(60 * MS)] })));
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = simulate(w, { cpus: 1, scheduler: 'cfs', seed, ctxSwitchNs: 0, hz: 1000 });
    // Only slices taken while all 12 tasks were runnable: once tasks finish, fewer than
    // sched_nr_latency remain and the slice grows to 6 ms / nr (2 ms at 3 left), as CFS does.
    // CFS keeps equal tasks within a few ms of CPU of each other, so a slice that ends before
    // its task has 50 ms of CPU ran before any task reached its 60 ms and exited.
    const s = r.records.flatMap((x) => {
      let used = 0;
      return x.slicesNs!.slice(0, -1).filter((len, i) => (used += len) <= 50 * MS && i > 0);
    });
    assert.ok(s.length > 300, `seed ${seed}: ${s.length} slices`);
    for (const x of s) assert.ok(x > 0.75 * MS && x <= 1.75 * MS, `seed ${seed}: slice ${x / MS} ms`);
  }
});

test('latency scales with CPUs: 3 tasks per CPU on 8 CPUs get 24/3 = 8 ms slices', () => {
  const w = workload(Array.from({ length: 24 }, () => ({ at: 0, phases: [cpu(120 * MS)] })));
  const r = simulate(w, { cpus: 8, scheduler: 'cfs', seed: 9, ctxSwitchNs: 0, hz: 1000 });
  const s = middleSlices(r);
  assert.ok(s.length > 50);
  for (const x of s) assert.ok(x > 8 * MS && x <= 9 * MS, `slice ${x / MS} ms`);
});

test('wake-up preemption needs a vruntime lead above wakeup_granularity, and the wakee becomes next buddy', () => {
  const m = new FakeMachine(1);
  const cfs = new CfsModel(1);
  cfs.attach(m);
  const curr = task({ vruntime: 10 * MS });
  m.running[0] = curr;
  const near = task({ vruntime: 9.5 * MS });
  assert.equal(cfs.wantsPreempt(0, curr, near), false, 'within 1 ms of curr: no preemption');
  const far = task({ vruntime: 8.9 * MS });
  assert.equal(cfs.wantsPreempt(0, curr, far), true, 'more than 1 ms behind curr: preempt');
  // pick_next honours the next buddy when it is within wakeup_granularity of the leftmost.
  const left = task({ vruntime: 8.5 * MS });
  far.cpu = left.cpu = 0;
  cfs.putPrev(0, left);
  cfs.putPrev(0, far);
  m.running[0] = null;
  cfs.putPrev(0, curr);
  assert.equal(cfs.pickNext(0, curr), far);
  assert.equal(cfs.pickNext(0, null), left);
});

test('place_entity: new tasks pay START_DEBIT, sleepers get at most half a latency of credit', () => {
  const m = new FakeMachine(1);
  const cfs = new CfsModel(1);
  cfs.attach(m);
  const runner = task({ vruntime: 50 * MS });
  m.running[0] = runner;
  cfs.account(0, runner, 0); // min_vruntime follows curr
  assert.equal(cfs.minVruntime(0), 50 * MS);
  const fresh = task();
  cfs.enqueue(0, fresh, 'new');
  // nr = 2 → slice = 6 ms / 2 = 3 ms of debit
  assert.equal(fresh.vruntime, 53 * MS);
  const sleeper = task({ vruntime: 1 * MS });
  sleeper.cpu = 0;
  cfs.enqueue(0, sleeper, 'wakeup');
  assert.equal(sleeper.vruntime, 47 * MS);
  const brief = task({ vruntime: 49 * MS });
  brief.cpu = 0;
  cfs.enqueue(0, brief, 'wakeup');
  assert.equal(brief.vruntime, 49 * MS, 'a short sleeper keeps its own vruntime');
});

test('check_preempt_tick: not before min_granularity, then when the leftmost is a slice behind', () => {
  const m = new FakeMachine(1);
  const cfs = new CfsModel(1);
  cfs.attach(m);
  const curr = task({ vruntime: 20 * MS });
  m.running[0] = curr;
  const other = task({ vruntime: 1 * MS });
  other.cpu = 0;
  cfs.putPrev(0, other);
  curr.prevSumExecNs = 0;
  curr.sumExecNs = 0.5 * MS;
  assert.equal(cfs.tick(0, curr), false, 'ran less than min_granularity');
  curr.sumExecNs = 1 * MS;
  assert.equal(cfs.tick(0, curr), true, 'leftmost is more than the 3 ms ideal slice behind');
  other.vruntime = 19 * MS;
  assert.equal(cfs.tick(0, curr), false, 'leftmost close: keep running until the ideal slice');
  curr.sumExecNs = 3.5 * MS;
  assert.equal(cfs.tick(0, curr), true, 'ideal slice (6 ms / 2) used up');
});

test('an I/O task waking against a CPU hog preempts it at once (its vruntime is far behind)', () => {
  const w = workload([
    { at: 0, phases: [cpu(200 * MS)] },
    { at: 1 * MS, phases: [cpu(1 * MS), { kind: 'block', ns: 20 * MS }, cpu(1 * MS)] },
  ]);
  const r = simulate(w, { cpus: 1, scheduler: 'cfs', seed: 2, ctxSwitchNs: 0 });
  const io = r.records[1]!;
  assert.equal(io.waitNs! - io.firstWaitNs!, 0, 'no wait after waking');
  assert.equal(io.involuntarySwitches, 0);
});
