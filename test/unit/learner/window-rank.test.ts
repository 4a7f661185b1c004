import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationRecord, Policy } from '../../../src/core/index.js';
import { AlpsLearner, learnRound, rankClass } from '../../../src/learner/index.js';

const MS = 1e6;
const S = 1e9;
const rec = (funcId: number, arrivalNs: number, cpuNs: number, endNs: number): InvocationRecord => ({ funcId, arrivalNs, cpuNs, endNs });
const entry = (p: Policy, f: number) => p.entries.find((e) => e.funcId === f);

/**
 * A 1.5 s function that arrived 5 s before the window and completed inside it, plus short
 * functions arriving in pairs inside the window (so one of each pair waits in the replay).
 */
function edgeWindow(): InvocationRecord[] {
  const out: InvocationRecord[] = [rec(9, 0, 1500 * MS, 6 * S)];
  for (let i = 0; i < 40; i++) {
    const at = 5 * S + 100 * MS * i + 1;
    out.push(rec(1, at, 10 * MS, at + 20 * MS), rec(1, at, 10 * MS, at + 20 * MS));
  }
  return out;
}

test('window edge: a long function that arrived before the window is replayed but not measured', () => {
  const params = { cpus: 1, rankBy: 'wait' as const, rankClassRatio: 1 };
  // The bug, shown on the pure function without a window start: replayed from its arrival on an
  // empty machine, the 1.5 s function never waits, so the paper's statistic ranks it first and
  // its one uninterrupted run gives it the full slice cap.
  const naive = learnRound(edgeWindow(), params, undefined, 50);
  assert.equal(entry(naive.policy, 9)!.rank, 1);
  assert.equal(entry(naive.policy, 9)!.sliceNs, 200 * MS);
  // With the window start (what AlpsLearner passes): the long function is context only.
  const fixed = learnRound(edgeWindow(), params, undefined, 50, { windowStartNs: 5 * S });
  assert.equal(entry(fixed.policy, 9), undefined, 'no evidence about it in this window: no entry');
  assert.deepEqual(fixed.functions.map((f) => f.funcId), [1]);
  // Same replay (the long job still holds the CPU in it); only what is measured changes.
  assert.equal(fixed.functions[0]!.meanWaitNs, naive.functions.find((f) => f.funcId === 1)!.meanWaitNs);
});

test('window edge through AlpsLearner: the long function never outranks the short one', () => {
  const l = new AlpsLearner({ cpus: 1, rankBy: 'wait', rankClassRatio: 1 });
  l.observe(edgeWindow());
  // An in-window invocation of the long function: measured, competes with the short ones.
  l.observe([rec(9, 7 * S, 1500 * MS, 9.9 * S)]);
  const p = l.learn(10 * S, 50);
  assert.ok(entry(p, 9)!.rank > entry(p, 1)!.rank, JSON.stringify(p.entries));
});

test('absent functions are placed in this round’s order by their last key, not by a stale rank number', () => {
  const l = new AlpsLearner({ cpus: 4, windowNs: 1 * S, expireRounds: 3 });
  // Round 1 (idle machine, no waits): A 10 ms, B 100 ms, C 1 s.
  l.observe([rec(1, 0, 10 * MS, 10 * MS), rec(2, 0, 100 * MS, 100 * MS), rec(3, 0, 1000 * MS, 1000 * MS)]);
  const p1 = l.learn(1 * S, 10);
  assert.deepEqual([1, 2, 3].map((f) => entry(p1, f)!.rank), [1, 2, 3]);
  // Round 2: only A and a new D (50 ms). B and C are carried: B must stay behind D, C behind B.
  l.observe([rec(1, 1.1 * S, 10 * MS, 1.11 * S), rec(4, 1.2 * S, 50 * MS, 1.25 * S)]);
  const p2 = l.learn(2 * S, 10);
  const r = (f: number) => entry(p2, f)!.rank;
  assert.ok(r(1) < r(4) && r(4) < r(2) && r(2) < r(3), JSON.stringify(p2.entries));
  // Carried entries keep their slice, and expire after expireRounds absent rounds.
  assert.equal(entry(p2, 3)!.sliceNs, entry(p1, 3)!.sliceNs);
  for (let k = 3; k <= 5; k++) l.learn(k * S, 10);
  assert.equal(entry(l.current!, 3), undefined);
});

test('rank classes are geometric in the rank statistic, unit 1 ms', () => {
  assert.equal(rankClass(0, 2), 0);
  assert.equal(rankClass(0.5 * MS, 2), 0);
  assert.equal(rankClass(1.99 * MS, 2), 0);
  assert.equal(rankClass(2 * MS, 2), 1);
  assert.equal(rankClass(1000 * MS, 2), 9);
  assert.equal(rankClass(1024 * MS, 2), 10);
});
