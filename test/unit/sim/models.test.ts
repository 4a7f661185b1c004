import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../../src/core/index.js';
import { simulate, SCHEDULERS, type DelegatedAgent, type GhostMessage, type GhostTxn } from '../../../src/sim/index.js';
import { MS, block, cpu, fixedLearner, workload } from '../../support/sim.js';

const opts = { cpus: 1, seed: 1, ctxSwitchNs: 0 } as const;

test('SCHEDULERS lists every model and each runs', () => {
  assert.deepEqual([...SCHEDULERS], ['cfs', 'eevdf', 'fifo', 'rr', 'srpt', 'sfs', 'alps', 'alps-delegated']);
  const w = workload([{ at: 0, phases: [cpu(5 * MS)] }]);
  for (const scheduler of SCHEDULERS) {
    const r = simulate(w, { ...opts, scheduler }, { learner: fixedLearner([]) });
    assert.equal(r.records.length, 1, scheduler);
    assert.equal(r.records[0]!.cpuNs, 5 * MS, scheduler);
  }
});

test('bad options are InputErrors naming the input', () => {
  const w = workload([{ at: 0, phases: [cpu(MS)] }]);
  assert.throws(() => simulate(w, { ...opts, scheduler: 'nope' }), (e: unknown) => e instanceof InputError && e.input === 'scheduler');
  assert.throws(() => simulate(w, { ...opts, cpus: 0, scheduler: 'cfs' }), (e: unknown) => e instanceof InputError && e.input === 'cpus');
  assert.throws(
    () => simulate(w, { ...opts, scheduler: 'sfs', tunables: { 'sfs.slice': 3 } }),
    (e: unknown) => e instanceof InputError && e.input === 'tunables.sfs.slice',
  );
  const unsorted = workload([{ at: 5, phases: [cpu(MS)] }, { at: 1, phases: [cpu(MS)] }]);
  assert.throws(() => simulate(unsorted, { ...opts, scheduler: 'cfs' }), InputError);
});

test('RR: 100 ms timeslices, round robin between two CPU hogs', () => {
  const w = workload([{ at: 0, phases: [cpu(300 * MS)] }, { at: 0, phases: [cpu(300 * MS)] }]);
  const r = simulate(w, { ...opts, scheduler: 'rr' });
  assert.equal(Math.max(...r.records.map((x) => x.endNs)), 600 * MS);
  // 25 ticks at HZ=250; the first slice starts mid-jiffy, the last is the remainder.
  for (const x of r.records) {
    const s = x.slicesNs!;
    assert.ok(s.length >= 3, `${s.length} slices`);
    for (const len of s.slice(0, -1)) assert.ok(Math.abs(len - 100 * MS) <= 4 * MS, `slice ${len / MS} ms`);
  }
});

test('SRPT preempts for a shorter arrival at once', () => {
  const w = workload([{ at: 0, phases: [cpu(100 * MS)] }, { at: 5 * MS, phases: [cpu(10 * MS)] }]);
  const r = simulate(w, { ...opts, scheduler: 'srpt' });
  assert.deepEqual(r.records.map((x) => x.endNs / MS), [110, 15]);
});

test('SFS: a job runs FIFO for its budget S, then is demoted to CFS and the FIFO queue goes first', () => {
  const w = workload([{ at: 0, phases: [cpu(100 * MS)] }, { at: 5 * MS, phases: [cpu(10 * MS)] }]);
  const r = simulate(w, { ...opts, scheduler: 'sfs' });
  // S starts at 20 ms: the long job keeps the CPU until 20 ms, the short one then runs to the end.
  assert.equal(r.records[1]!.endNs, 30 * MS);
  assert.equal(r.records[1]!.firstWaitNs, 15 * MS);
  assert.equal(r.records[0]!.endNs, 110 * MS);
  const small = simulate(w, { ...opts, scheduler: 'sfs', tunables: { 'sfs.initialSliceNs': 2 * MS, 'sfs.minSliceNs': 1 * MS } });
  // With S = 2 ms the long job is already in CFS when the short one arrives: the new level-1
  // job preempts it at once (RT over CFS), then is demoted too after its 2 ms.
  assert.equal(small.records[1]!.firstWaitNs, 0);
  assert.equal(small.records[1]!.slicesNs![0], 2 * MS);
});

test('SFS: a level-1 job that blocks keeps its unused budget and re-enters FIFO', () => {
  const w = workload([
    { at: 0, phases: [cpu(5 * MS), block(10 * MS), cpu(5 * MS)] },
    { at: 1 * MS, phases: [cpu(200 * MS)] },
  ]);
  const r = simulate(w, { ...opts, scheduler: 'sfs' });
  // Job 0 runs 5 ms of its 20 ms budget and blocks; job 1 takes the CPU as level 1 until its
  // budget ends at 25 ms. Job 0 wakes at 15 ms back into level 1 (15 ms budget left): level 1
  // does not preempt level 1, so it runs at 25 ms, ahead of the demoted job 1.
  assert.equal(r.records[0]!.endNs, 30 * MS);
});

test('ALPS: rank-first order and learned slices extend runs (fixed policy)', () => {
  const learner = fixedLearner(
    [
      { funcId: 1, rank: 1, sliceNs: 20 * MS },
      { funcId: 2, rank: 2, sliceNs: 20 * MS },
      { funcId: 3, rank: 3, sliceNs: 0 },
    ],
    1 * MS,
  );
  const w = workload([
    { at: 0, phases: [cpu(100 * MS)], funcId: 3 },
    { at: 5 * MS, phases: [cpu(10 * MS)], funcId: 2 },
    { at: 6 * MS, phases: [cpu(10 * MS)], funcId: 1 },
  ]);
  const r = simulate(w, { ...opts, scheduler: 'alps' }, { learner });
  assert.ok(r.policies.length > 0);
  const [hog, x, y] = r.records;
  assert.ok(y!.endNs < x!.endNs, 'rank 1 runs before rank 2 although it arrived later');
  // Was `length === 1`: the learned slice shielded x against the better-ranked y. Rank-aware
  // preemption (src/sim/models/alps.ts): y (rank 1) preempts x at once; the rank-3 hog never does.
  assert.equal(x!.slicesNs!.length, 2, 'preempted once, by the better-ranked y only');
  assert.equal(y!.slicesNs!.length, 1);
  assert.ok(hog!.endNs > x!.endNs);
  const cfs = simulate(w, { ...opts, scheduler: 'cfs' });
  assert.ok(cfs.records[1]!.slicesNs!.length > 1, 'plain CFS slices the same job');
});

test('ALPS: the slice hook vetoes preemption until the learned slice is used', () => {
  const learner = fixedLearner([{ funcId: 1, rank: 1, sliceNs: 30 * MS }], 1 * MS);
  // Equal ranks are served oldest first (src/sim/models/alps.ts, FCFS within a rank), so the
  // competitor must be older: it arrives first, blocks briefly, and wakes while the other runs.
  // Was: two plain arrivals, the second (younger) one taking over after the first's slice.
  const w = workload([
    { at: 1 * MS, phases: [cpu(MS), block(3 * MS), cpu(50 * MS)], funcId: 1 },
    { at: 3 * MS, phases: [cpu(50 * MS)], funcId: 1 },
  ]);
  const r = simulate(w, { ...opts, scheduler: 'alps' }, { learner });
  const first = r.records[1]!.slicesNs!;
  assert.ok(first[0]! >= 30 * MS && first[0]! <= 30 * MS + 4 * MS, `first slice ${first[0]! / MS} ms`);
  assert.ok(first.length >= 2, 'the older task takes over once the slice is used');
});

test('delegated: a decision reaches an idle CPU after message + transaction + IPI', () => {
  const w = workload([{ at: 1000, phases: [cpu(MS)] }]);
  const r = simulate(w, { ...opts, scheduler: 'alps-delegated' }, { learner: fixedLearner([]) });
  assert.equal(r.records[0]!.firstWaitNs, 725 + 888 + 1000);
  const free = simulate(
    w,
    { ...opts, scheduler: 'alps-delegated', tunables: { 'ghost.msgNs': 0, 'ghost.txnNs': 0, 'ghost.ipiNs': 0 } },
    { learner: fixedLearner([]) },
  );
  assert.equal(free.records[0]!.firstWaitNs, 0);
});

test('delegated: commits of one batch are serial (k-th lands after k transactions)', () => {
  const w = workload([0, 0, 0, 0].map(() => ({ at: 1000, phases: [cpu(MS)] })));
  const r = simulate(w, { ...opts, cpus: 4, scheduler: 'alps-delegated' }, { learner: fixedLearner([]) });
  const waits = r.records.map((x) => x.firstWaitNs!).sort((a, b) => a - b);
  assert.deepEqual(waits, [1, 2, 3, 4].map((k) => 725 + k * 888 + 1000));
});

test('newidle balance: a CPU going idle pulls a waiting task from a busier one', () => {
  const w = workload([
    { at: 0, phases: [cpu(50 * MS)] },
    { at: 0, phases: [cpu(50 * MS)] },
    { at: 0, phases: [cpu(10 * MS)] },
  ]);
  const r = simulate(w, { cpus: 2, scheduler: 'cfs', seed: 7, ctxSwitchNs: 0 });
  // Without balancing the CPU with two jobs would finish at 100 ms (or 60 ms with the short one).
  assert.ok(r.makespanNs <= 60 * MS, `makespan ${r.makespanNs / MS} ms`);
  assert.equal(r.busyNsPerCpu.reduce((a, b) => a + b, 0), 110 * MS);
});

test('an outside ghOSt-style agent drives the CPUs through message batches and per-CPU transactions', () => {
  // A minimal centralized FIFO agent: idle CPUs get the oldest runnable task.
  const seen = new Set<string>();
  const agent: DelegatedAgent = {
    name: 'fifo-agent',
    wantsTicks: false,
    queue: [] as number[],
    idle: [] as boolean[],
    init(n: number) {
      this.idle = new Array<boolean>(n).fill(true);
    },
    onMessages(batch: readonly GhostMessage[], _now: number, out: GhostTxn[]) {
      for (const m of batch) {
        seen.add(m.type);
        if (m.type === 'TASK_NEW' || m.type === 'TASK_WAKEUP' || m.type === 'TASK_PREEMPT') this.queue.push(m.taskId);
        if (m.type === 'TASK_BLOCKED' || m.type === 'TASK_DEAD') this.idle[m.cpu] = true;
      }
      for (let c = 0; c < this.idle.length && this.queue.length > 0; c++) {
        if (!this.idle[c]) continue;
        this.idle[c] = false;
        out.push({ cpu: c, taskId: this.queue.shift()! });
      }
    },
  } as DelegatedAgent & { queue: number[]; idle: boolean[] };
  const w = workload([
    { at: 0, phases: [cpu(10 * MS), block(5 * MS), cpu(1 * MS)] },
    { at: 0, phases: [cpu(10 * MS)] },
    { at: 0, phases: [cpu(10 * MS)] },
  ]);
  const r = simulate(w, { cpus: 2, scheduler: 'fifo-agent', seed: 1, ctxSwitchNs: 0 }, { agent });
  assert.equal(r.scheduler, 'fifo-agent');
  assert.deepEqual([...seen].sort(), ['TASK_BLOCKED', 'TASK_DEAD', 'TASK_NEW', 'TASK_WAKEUP']);
  // Two start at once (the second commit lands one transaction later); the third gets the CPU
  // freed when the first blocks: its BLOCKED message, one commit and an IPI later.
  const d = 725 + 888 + 1000;
  assert.equal(r.records[0]!.firstWaitNs, d);
  assert.equal(r.records[1]!.firstWaitNs, d + 888);
  assert.equal(r.records[2]!.firstWaitNs, d + 10 * MS + d);
  assert.equal(r.records.filter((x) => x.endNs > 0).length, 3);
});

test('onProgress reports a rising fraction ending at 1; onPolicy sees every installed policy', () => {
  const w = workload(Array.from({ length: 300 }, (_, i) => ({ at: i * MS, phases: [cpu(2 * MS)], funcId: 1 + (i % 3) })));
  const fractions: number[] = [];
  const seen: number[] = [];
  const r = simulate(
    w,
    { cpus: 2, scheduler: 'alps', seed: 1, onProgress: (f) => fractions.push(f), onPolicy: (p, now) => seen.push(now) },
    { learner: fixedLearner([{ funcId: 1, rank: 1, sliceNs: 0 }], 50 * MS) },
  );
  assert.ok(fractions.length >= 10);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i]! >= fractions[i - 1]!);
  assert.equal(fractions[fractions.length - 1], 1);
  assert.equal(seen.length, r.policies.length);
  assert.deepEqual(seen, seen.map((_, i) => (i + 1) * 50 * MS), 'one round every W of virtual time');
  assert.ok(r.policies.length >= 5);
});

test('delegated with local agents: in-kernel ALPS decisions, each switch first runs the agent (725 + 888 ns)', () => {
  const w = workload([{ at: 1000, phases: [cpu(MS)] }, { at: 5 * MS, phases: [cpu(MS)] }]);
  const r = simulate(w, { ...opts, scheduler: 'alps-delegated', tunables: { 'ghost.agent': 'local' } }, { learner: fixedLearner([]) });
  assert.equal(r.records[0]!.endNs, 1000 + 1613 + MS);
  assert.equal(r.records[1]!.endNs, 5 * MS + 1613 + MS);
  assert.equal(r.busyNsPerCpu[0], 2 * (1613 + MS));
  assert.throws(
    () => simulate(w, { ...opts, scheduler: 'alps-delegated', tunables: { 'ghost.agent': 'remote' } }, { learner: fixedLearner([]) }),
    InputError,
  );
});
