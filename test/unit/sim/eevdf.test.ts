import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../src/sim/index.js';
import { EevdfModel } from '../../../src/sim/models/eevdf.js';
import { FakeMachine, MS, cpu, task, workload } from '../../support/sim.js';

test('base slice is 0.75 ms × factor', () => {
  assert.equal(new EevdfModel(1).baseSliceNs, 0.75 * MS);
  assert.equal(new EevdfModel(4).baseSliceNs, 2.25 * MS);
  assert.equal(new EevdfModel(56).baseSliceNs, 3 * MS);
});

test('equal CPU-bound tasks share one CPU equally', () => {
  const w = workload([0, 0, 0, 0].map(() => ({ at: 0, phases: [cpu(200 * MS)] })));
  const r = simulate(w, { cpus: 1, scheduler: 'eevdf', seed: 1, ctxSwitchNs: 0 });
  const ends = r.records.map((x) => x.endNs).sort((a, b) => a - b);
  assert.equal(ends[3], 800 * MS);
  assert.ok(ends[0]! > 790 * MS, `first finished at ${ends[0]! / MS} ms`);
});

test('slices follow the base slice (not sched_latency/nr): 2 tasks run ~1 ms each at HZ=1000', () => {
  const w = workload([0, 0].map(() => ({ at: 0, phases: [cpu(100 * MS)] })));
  const r = simulate(w, { cpus: 1, scheduler: 'eevdf', seed: 4, ctxSwitchNs: 0, hz: 1000 });
  const s = r.records.flatMap((x) => x.slicesNs!.slice(1, -1));
  assert.ok(s.length > 50);
  for (const x of s) assert.ok(x >= 0.75 * MS && x <= 1.75 * MS, `slice ${x / MS} ms`);
  // CFS gives the same pair sched_latency/2 = 3 ms slices.
  const cfs = simulate(w, { cpus: 1, scheduler: 'cfs', seed: 4, ctxSwitchNs: 0, hz: 1000 });
  const cs = cfs.records.flatMap((x) => x.slicesNs!.slice(1, -1));
  assert.ok(cs.every((x) => x > 3 * MS));
});

test('eligibility: lag ≥ 0 against the load-weighted average vruntime (curr included)', () => {
  const m = new FakeMachine(1);
  const ev = new EevdfModel(1);
  ev.attach(m);
  const a = task({ vruntime: 0 });
  const b = task({ vruntime: 0 });
  ev.putPrev(0, a);
  ev.putPrev(0, b);
  a.vruntime = 0;
  b.vruntime = 0;
  const curr = task({ vruntime: 6 * MS });
  m.running[0] = curr;
  // V = (0 + 0 + 6) / 3 = 2 ms
  assert.equal(ev.avgVruntime(0, curr), 2 * MS);
  assert.equal(ev.eligible(0, a, curr), true);
  assert.equal(ev.eligible(0, curr, curr), false);
});

test('wake-up preemption iff pick_eevdf picks the wakee; RUN_TO_PARITY protects curr', () => {
  const setup = (otherDeadline: number, parity: boolean) => {
    const m = new FakeMachine(1);
    const ev = new EevdfModel(1);
    ev.attach(m);
    const other = task({ vruntime: 0 });
    ev.putPrev(0, other);
    other.deadline = otherDeadline;
    const curr = task({ vruntime: 10 * MS });
    curr.deadline = 12 * MS;
    curr.vlag = parity ? curr.deadline : 0;
    m.running[0] = curr;
    const wakee = task();
    ev.enqueue(0, wakee, 'new'); // V = 5 ms → vruntime 5 ms, deadline 5.375 ms
    assert.equal(wakee.vruntime, 5 * MS);
    assert.equal(wakee.deadline, 5.375 * MS);
    return ev.wantsPreempt(0, curr, wakee);
  };
  assert.equal(setup(20 * MS, false), true, 'wakee has the earliest eligible deadline');
  assert.equal(setup(3 * MS, false), false, 'another eligible task has an earlier deadline');
  // curr (vruntime 10 > V) is not eligible, so parity does not protect it
  assert.equal(setup(20 * MS, true), true);
});

test('RUN_TO_PARITY keeps an eligible curr that has not used its slice', () => {
  const m = new FakeMachine(1);
  const ev = new EevdfModel(1);
  ev.attach(m);
  const curr = task({ vruntime: 0 });
  curr.deadline = 0.75 * MS;
  curr.vlag = curr.deadline;
  m.running[0] = curr;
  const wakee = task();
  ev.enqueue(0, wakee, 'new');
  assert.equal(ev.wantsPreempt(0, curr, wakee), false);
  curr.vlag = 0; // the slice was renewed since the pick
  assert.equal(ev.wantsPreempt(0, curr, wakee), true);
});

test('lag survives sleep: re-placed at V − lag·(n+1)/n', () => {
  const m = new FakeMachine(1);
  const ev = new EevdfModel(1);
  ev.attach(m);
  const q = task({ vruntime: 0 });
  ev.putPrev(0, q);
  const t = task({ vruntime: 0 });
  m.running[0] = t;
  // t leaves with V = 0 and its own vruntime −1 ms → lag +1 ms
  t.vruntime = -1 * MS;
  m.running[0] = null;
  ev.dequeueCurr(0, t, 'sleep');
  assert.equal(t.vlag, 0.5 * MS, 'V over {q, t} = −0.5 ms, lag = 0.5 ms');
  ev.enqueue(0, t, 'wakeup');
  // V = 0 (q alone); n = 1 → lag × 2
  assert.equal(t.vruntime, -1 * MS);
});

test('a waking task with negative lag waits for curr\'s slice (6.6 keeps lag across sleep)', () => {
  const w = workload([
    { at: 0, phases: [cpu(200 * MS)] },
    { at: 1 * MS, phases: [cpu(1 * MS), { kind: 'block', ns: 20 * MS }, cpu(1 * MS)] },
  ]);
  const r = simulate(w, { cpus: 1, scheduler: 'eevdf', seed: 2, ctxSwitchNs: 0 });
  const io = r.records[1]!;
  const waitedAfterWake = io.waitNs! - io.firstWaitNs!;
  assert.ok(waitedAfterWake > 0 && waitedAfterWake <= 4 * MS + 0.75 * MS, `${waitedAfterWake / MS} ms`);
});
