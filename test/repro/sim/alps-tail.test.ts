import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../src/sim/index.js';
import { ESCAPE_SLOWDOWN } from '../../../src/core/alps-rule.js';
import type { PolicyEntry } from '../../../src/core/policy.js';
import { AlpsModel, type AlpsTailRule } from '../../../src/sim/models/alps.js';
import { MS, cpu, fixedLearner, workload } from '../../support/sim.js';

/**
 * The ALPS rule's tail bound in the in-kernel model (src/core/alps-rule.ts, docs/scx.md "The ALPS
 * rule"): a ranked task whose escape deadline d = arrival + S × E[CPU] has passed runs ahead of
 * all work that is not overdue (overdue tasks: highest degree first); before d the learned rank
 * orders it; FCFS within a rank.
 */
const LONG_E = 200 * MS;
const entries = (longRank: number, longE = LONG_E, jobMs = 9): PolicyEntry[] => [
  { funcId: 1, rank: 1, sliceNs: 0, expectedCpuNs: jobMs * MS },
  { funcId: 3, rank: longRank, sliceNs: 0, expectedCpuNs: longE },
];

interface Outcome {
  longEnd: number;
  longSlowdown: number;
  shortMaxSlowdown: number;
}

/**
 * 1 CPU. A 200 ms task of rank `longRank` arrives at 0; rank-1 jobs of `jobMs` arrive every 10 ms
 * from 1 ms for 6 s (90 % load of better-ranked work at 9 ms). Static ranks give the long task
 * only the idle 10 %: it would end near 2 s.
 */
function run(longRank: number, opts: { longE?: number; tail?: AlpsTailRule; jobMs?: number } = {}): Outcome {
  const jobMs = opts.jobMs ?? 9;
  const items = [{ at: 0, phases: [cpu(LONG_E)], funcId: 3 }];
  for (let at = 1 * MS; at < 6000 * MS; at += 10 * MS) items.push({ at, phases: [cpu(jobMs * MS)], funcId: 1 });
  const learner = fixedLearner(entries(longRank, opts.longE, jobMs), 1 * MS);
  const model = opts.tail ? { model: (n: number) => new AlpsModel(n, opts.tail) } : {};
  const r = simulate(workload(items), { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 0 }, { learner, ...model });
  const long = r.records[0]!;
  assert.equal(long.cpuNs, LONG_E);
  const shorts = r.records.filter((x) => x.funcId === 1).map((x) => (x.endNs - x.arrivalNs) / (jobMs * MS));
  return { longEnd: long.endNs, longSlowdown: (long.endNs - long.arrivalNs) / LONG_E, shortMaxSlowdown: Math.max(...shorts) };
}

test('escape deadline: a worst-ranked task under 90 % better-ranked load ends with a slowdown near the short jobs\' worst, not at the static-rank end', () => {
  const rule = run(3);
  const statik = run(3, { tail: { kind: 'none' } });
  assert.ok(statik.longEnd >= 1900 * MS, `static ranks ended it at ${statik.longEnd / MS} ms`);
  assert.ok(rule.longEnd <= 0.8 * statik.longEnd, `rule ${rule.longEnd / MS} ms vs static ${statik.longEnd / MS} ms`);
  // Overdue tasks are served highest degree first: slowdowns are balanced between the classes.
  assert.ok(rule.longSlowdown <= Math.max(ESCAPE_SLOWDOWN + 1, 1.25 * rule.shortMaxSlowdown), `long slowdown ${rule.longSlowdown.toFixed(1)} vs short ${rule.shortMaxSlowdown.toFixed(1)}`);
});

test('escape deadline: the bound does not depend on the number of ranks', () => {
  const few = run(3).longEnd;
  const many = run(300).longEnd;
  assert.equal(few, many, `rank 3 ends at ${few / MS} ms, rank 300 at ${many / MS} ms`);
});

test('escape deadline: before d the learned rank holds (no promotion while nothing is overdue)', () => {
  // E[CPU] 10 s: the deadline (S × 10 s) lies beyond the stream, so only static ranks act.
  const far = run(3, { longE: 10_000 * MS });
  const statik = run(3, { tail: { kind: 'none' } });
  assert.equal(far.longEnd, statik.longEnd);
});

test('FCFS within a rank: the older of two equal-ranked long tasks finishes first, at its own length', () => {
  const w = workload([
    { at: 0, phases: [cpu(300 * MS)], funcId: 3 },
    { at: 1 * MS, phases: [cpu(300 * MS)], funcId: 3 },
  ]);
  const r = simulate(w, { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 0 }, { learner: fixedLearner(entries(3), 1 * MS) });
  const [older, younger] = r.records;
  assert.ok(older!.endNs <= 305 * MS, `older ended at ${older!.endNs / MS} ms`);
  assert.equal(older!.slicesNs!.length, 1);
  assert.ok(younger!.endNs >= 600 * MS);
  // CFS shares the CPU: both finish near 600 ms.
  const cfs = simulate(w, { cpus: 1, scheduler: 'cfs', seed: 1, ctxSwitchNs: 0 });
  assert.ok(cfs.records[0]!.endNs > 550 * MS);
});
