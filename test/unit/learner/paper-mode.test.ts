import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, type InvocationRecord } from '../../../src/core/index.js';
import {
  AlpsLearner,
  defaultLearnerParams,
  learnPolicy,
  learnRound,
  penaltyFactor,
  stack,
  validateLearnerParams,
  linregPredictNext,
  ewmaLast,
  forestPredictNext,
  SLICE_LIMIT_NS,
} from '../../../src/learner/index.js';

const MS = 1e6;
const rec = (funcId: number, arrivalMs: number, cpuMs: number, endMs = arrivalMs + cpuMs): InvocationRecord => ({
  funcId,
  arrivalNs: arrivalMs * MS,
  endNs: endMs * MS,
  cpuNs: cpuMs * MS,
});

test('defaults are the paper’s: α=2 β=1 γ=1 θ=50, W=5 s, avg, paper mode', () => {
  const d = defaultLearnerParams();
  assert.deepEqual([d.alpha, d.beta, d.gamma, d.theta, d.windowNs, d.model, d.mode], [2, 1, 1, 50, 5e9, 'avg', 'paper']);
  assert.equal(d.maxSliceNs, 200 * MS);
});

test('Eq. 3 penalty factor: 1 below θ, (100+θ−l)/(100γ) above; β only in artifact mode', () => {
  const p = defaultLearnerParams();
  assert.equal(penaltyFactor(49.9, p), 1);
  assert.equal(penaltyFactor(90, p), 0.6);
  assert.equal(penaltyFactor(100, p), 0.5);
  assert.equal(penaltyFactor(60, { ...p, gamma: 0.5 }), 1.8);
  assert.equal(penaltyFactor(90, { ...p, beta: 2 }), 0.6);
  assert.equal(penaltyFactor(90, { ...p, beta: 2, betaInPenalty: true }), 1.2);
  assert.equal(penaltyFactor(90, { ...p, overload: false }), 1);
  assert.equal(stack(10, 1.8, 4, 'clip'), 10);
  assert.equal(stack(10, 0.6, 4, 'clip'), 6);
  assert.equal(stack(10, 0.6, 4, 'min-basic'), 4);
  assert.equal(stack(10, 1.8, 4, 'raw'), 18);
});

test('one function alone: slice = min(p,1)·max(α·mean − β·stdev, 0)', () => {
  // Idle machine, no overlap: each run is one slice equal to its CPU time: 10, 20, 30 ms.
  const records = [rec(5, 0, 10), rec(5, 100, 20), rec(5, 200, 30)];
  const sd = Math.sqrt(200 / 3);
  const at = (util: number) => learnPolicy(records, {}, undefined, util).entries[0]!;
  assert.equal(at(10).sliceNs, Math.floor((2 * 20 - sd) * MS));
  assert.equal(at(90).sliceNs, Math.floor(0.6 * (2 * 20 - sd) * MS));
  assert.equal(at(10).rank, 1);
  // β large enough drives Eq. 2 to 0 = the kernel's default slice.
  assert.equal(learnPolicy(records, { beta: 10 }, undefined, 10).entries[0]!.sliceNs, 0);
});

test('rank follows mean wait in the SRPT replay: the short function that never waits is rank 1', () => {
  // One CPU, a long job and short jobs arriving while it runs: SRPT makes the long one wait.
  const records = [rec(9, 0, 300), rec(2, 1, 5), rec(2, 40, 5), rec(2, 80, 5), rec(7, 2, 60)];
  const r = learnRound(records, { cpus: 1 }, undefined, 50);
  const rank = (f: number) => r.policy.entries.find((e) => e.funcId === f)!.rank;
  assert.ok(rank(2) < rank(7) && rank(7) < rank(9), JSON.stringify(r.policy.entries));
  // The artifact's statistic (mean slice) is available behind a flag.
  const bySlice = learnRound(records, { cpus: 1, rankBy: 'slice' }, undefined, 50);
  assert.deepEqual(bySlice.functions.map((f) => f.funcId), [2, 7, 9]);
});

// This test used to assert [1, 1]: equal mean waits (both 0 on an idle machine) shared a rank,
// so a 10 ms and a 50 ms function were served by vruntime alone. That was the bug: on several
// CPUs the replay's waits saturate at 0 for every short function. Ties now go to the shorter
// mean CPU time (SRPT's own order); only functions equal on both (or in one rank class) share.
test('equal mean waits: the shorter mean CPU time ranks first; one rank class shares a rank', () => {
  const records = [rec(3, 0, 10), rec(4, 100, 50)];
  const byWait = learnPolicy(records, { cpus: 2, rankBy: 'wait', rankClassRatio: 1 }, undefined, 10);
  assert.deepEqual(byWait.entries.map((e) => e.rank), [1, 2]);
  const same = learnPolicy([rec(3, 0, 10), rec(4, 100, 10)], { cpus: 2, rankBy: 'wait', rankClassRatio: 1 }, undefined, 10);
  assert.deepEqual(same.entries.map((e) => e.rank), [1, 1], 'equal on both: the enforcers break the tie by vruntime');
  // Default classes (ratio 2 on mean replay turnaround): 10 ms and 15 ms share, 50 ms does not.
  const classes = learnPolicy([rec(3, 0, 10), rec(5, 50, 15), rec(4, 100, 50)], { cpus: 2 }, undefined, 10);
  assert.deepEqual(classes.entries.map((e) => [e.funcId, e.rank]), [[3, 1], [4, 2], [5, 1]]);
});

test('slice cap: never above maxSliceNs, never negative or NaN', () => {
  const p = learnPolicy([rec(1, 0, 900), rec(1, 1000, 950)], {}, undefined, 0);
  assert.equal(p.entries[0]!.sliceNs, 200 * MS);
  const q = learnPolicy([rec(1, 0, 900)], { maxSliceNs: 5 * MS }, undefined, 0);
  assert.equal(q.entries[0]!.sliceNs, 5 * MS);
  assert.ok(SLICE_LIMIT_NS >= 200 * MS);
});

test('monotone cap (pre-penalty) keeps later ranks from getting larger slices', () => {
  const records = [rec(9, 0, 300), rec(2, 1, 5), rec(2, 40, 5), rec(7, 2, 60)];
  const off = learnRound(records, { cpus: 1 }, undefined, 90);
  const on = learnRound(records, { cpus: 1, monotoneCap: 'pre-penalty' }, undefined, 90);
  const order = on.functions.map((f) => f.sliceNs);
  for (let i = 1; i < order.length; i++) assert.ok(order[i]! <= order[i - 1]!, `${order}`);
  assert.ok(off.functions.some((f, i) => i > 0 && f.sliceNs > off.functions[i - 1]!.sliceNs));
});

test('smoothing blends with the previous policy’s slice', () => {
  const a = learnPolicy([rec(1, 0, 10)], { alpha: 1 }, undefined, 0);
  const b = learnPolicy([rec(1, 0, 30)], { alpha: 1, smoothing: 0.3 }, a, 0);
  assert.equal(b.entries[0]!.sliceNs, Math.floor(0.7 * 30 * MS + 0.3 * 10 * MS));
  assert.equal(b.generation, 2);
});

test('models: linreg extrapolates, ewma weights recent points, forest is deterministic and tracks the right end', () => {
  assert.equal(linregPredictNext([1, 2, 3]), 4);
  assert.equal(linregPredictNext([7]), 7);
  assert.ok(Math.abs(ewmaLast([1, 2], 0.2) - (0.8 * 1 + 2) / 1.8) < 1e-12);
  assert.equal(forestPredictNext([5, 5, 5, 5], 10, 1), 5);
  const step = [1, 1, 1, 1, 1, 1, 10, 10, 10, 10, 10, 10];
  const f = forestPredictNext(step, 10, 42);
  assert.ok(f > 5 && f <= 10, `forest ${f}`);
  assert.equal(forestPredictNext(step, 10, 42), f);
  for (const model of ['avg', 'linreg', 'forest', 'ewma'] as const) {
    const p = learnPolicy([rec(1, 0, 10), rec(1, 50, 12), rec(1, 100, 14)], { model }, undefined, 0);
    assert.ok(p.entries[0]!.sliceNs > 0, model);
  }
});

test('bad parameters are rejected naming the parameter', () => {
  assert.throws(() => new AlpsLearner({ alpha: Number.NaN }), (e: unknown) => e instanceof InputError && /alpha/.test(e.message));
  const l = new AlpsLearner();
  assert.throws(() => l.setParams({ theta: 150 }), /learner parameter theta: must be ≤ 100/);
  assert.throws(() => l.setParams({ model: 'svm' as never }), /learner parameter model/);
  assert.throws(() => l.setParams({ cpus: 0 }), /learner parameter cpus/);
  assert.throws(() => validateLearnerParams({ ...defaultLearnerParams(), gamma: 0 }), /gamma/);
  assert.equal(l.params.theta, 50, 'a rejected patch changes nothing');
  l.setParams({ cpus: 8, alpha: 3 });
  l.setParams({ mode: 'artifact' });
  assert.equal(l.params.alpha, 1, 'switching mode takes that mode’s algorithm defaults');
  assert.equal(l.params.cpus, 8, 'and keeps the deployment’s CPUs');
  assert.throws(() => l.learn(0, Number.NaN), /utilisationPct/);
});

test('learner loop: time window, record cap, monotone generations, expiry of absent functions', () => {
  const l = new AlpsLearner({ expireRounds: 1 });
  l.observe([rec(1, 0, 10), rec(2, 4000, 10)]);
  const g1 = l.learn(5_000 * MS, 10);
  assert.deepEqual(g1.entries.map((e) => e.funcId), [1, 2]);
  // At 6 s the window (1 s, 6 s] holds only function 2's record; function 1 is carried once.
  l.observe([rec(3, 5500, 10)]);
  const g2 = l.learn(6_000 * MS, 10);
  assert.deepEqual(g2.entries.map((e) => e.funcId), [1, 2, 3]);
  assert.deepEqual(l.lastRoundStats!.functions.map((f) => f.funcId).sort(), [2, 3]);
  const g3 = l.learn(12_000 * MS, 10);
  assert.deepEqual(g3.entries.map((e) => e.funcId), [2, 3], 'function 1 expired after one carried round');
  assert.deepEqual([g1.generation, g2.generation, g3.generation], [1, 2, 3]);
  const g4 = l.learn(30_000 * MS, 10);
  assert.deepEqual(g4.entries, []);
  assert.equal(g4.generation, 4);

  const capped = new AlpsLearner({ maxRecords: 3 });
  capped.observe([rec(1, 0, 1), rec(2, 1, 1), rec(3, 2, 1), rec(4, 3, 1)]);
  capped.learn(10 * MS, 0);
  assert.deepEqual(capped.lastRoundStats!.functions.map((f) => f.funcId).sort(), [2, 3, 4], 'the oldest record is dropped');
});

test('pins override rank and/or slice from the next round; unpin restores learning', () => {
  const l = new AlpsLearner();
  l.observe([rec(1, 0, 10), rec(2, 0, 20)]);
  l.pin(2, { rank: 1, sliceNs: 3 * MS });
  l.pin(99, { sliceNs: 7 * MS });
  const p = l.learn(100 * MS, 0);
  // A pin overrides rank and slice; the learned E[CPU] (the escape deadline's input) stays.
  assert.deepEqual(p.entries.find((e) => e.funcId === 2), { funcId: 2, rank: 1, sliceNs: 3 * MS, expectedCpuNs: 20 * MS });
  const pinned99 = p.entries.find((e) => e.funcId === 99)!;
  assert.equal(pinned99.sliceNs, 7 * MS);
  assert.ok(pinned99.rank > 1);
  assert.throws(() => l.pin(0, { rank: 1 }), /pin funcId/);
  assert.throws(() => l.pin(3, { sliceNs: -1 }), /pin sliceNs/);
  assert.throws(() => l.pin(3, {}), /pin/);
  assert.equal(l.unpin(2), true);
  const q = l.learn(100 * MS, 0);
  assert.notEqual(q.entries.find((e) => e.funcId === 2)!.sliceNs, 3 * MS);
});

test('artifact-mode learner: too few records for the 1/cpus sample gives only the reserved UID 1, no crash', () => {
  const l = new AlpsLearner({ mode: 'artifact' });
  l.observe([rec(5, 0, 10), rec(6, 1, 20)]);
  assert.deepEqual(l.learn(100 * MS, 60).entries, [{ funcId: 1, rank: 1, sliceNs: 0 }]);
  // A policy's params survive a JSON round trip (Infinity → null) and rebuild the same learner.
  const again = new AlpsLearner(JSON.parse(JSON.stringify(l.current!.params)));
  assert.deepEqual(again.params, l.params);
});
