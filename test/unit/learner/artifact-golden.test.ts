import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationRecord } from '../../../src/core/index.js';
import { artifactReplay, learnFromTickRows, learnPolicy, defaultLearnerParams, type TickJob } from '../../../src/learner/index.js';

// Golden vectors of docs/artifact-algorithm.md §3.7 and the worked example of §4.5.

const byId = (rows: ReturnType<typeof artifactReplay>, id: number) => rows.find((r) => r.id === id)!;

test('§3.7 test 1: SRTF q=8, the short job waits out the quantum', () => {
  const rows = artifactReplay([{ id: 1, uid: 1, arrival: 0, burst: 30 }, { id: 2, uid: 2, arrival: 3, burst: 5 }], 'srtf', 8);
  const j2 = byId(rows, 2);
  assert.deepEqual([j2.wait, j2.slices, j2.switchTicks, j2.duration], [5, [5], [12], 9]);
  const j1 = byId(rows, 1);
  assert.deepEqual([j1.wait, j1.preemptions, j1.slices, j1.switchTicks, j1.duration], [0, 1, [8, 22], [7, 34], 34]);
  // data.csv order: class of the first completion (uid 2) first.
  assert.deepEqual(rows.map((r) => r.id), [2, 1]);
});

test('§3.7 test 2: equal remaining times break ties on the lower id', () => {
  const rows = artifactReplay([{ id: 5, uid: 1, arrival: 0, burst: 10 }, { id: 3, uid: 1, arrival: 0, burst: 10 }], 'srtf', 8);
  assert.equal(byId(rows, 3).duration, 9);
  assert.equal(byId(rows, 3).wait, 0);
  assert.equal(byId(rows, 5).wait, 10);
  assert.equal(byId(rows, 5).duration, 19);
});

test('§3.7 test 4: RR q=6', () => {
  const rows = artifactReplay([{ id: 1, uid: 1, arrival: 0, burst: 20 }, { id: 2, uid: 2, arrival: 1, burst: 20 }], 'rr', 6);
  assert.deepEqual(byId(rows, 1).slices, [6, 6, 6, 2]);
  assert.deepEqual(byId(rows, 2).slices, [6, 6, 6, 2]);
  assert.deepEqual(byId(rows, 1).switchTicks, [5, 17, 29, 37]);
  assert.deepEqual(byId(rows, 2).switchTicks, [11, 23, 35, 39]);
});

test('FIFO is non-preemptive below 9999 ticks', () => {
  const rows = artifactReplay([{ id: 1, uid: 1, arrival: 0, burst: 50 }, { id: 2, uid: 2, arrival: 1, burst: 2 }], 'fifo');
  assert.deepEqual(byId(rows, 1).slices, [50]);
  assert.equal(byId(rows, 2).wait, 49);
});

// §4.5: UID 2 (b=12) ×7, UID 6 (b=45) ×3, UID 18 (b=130) ×2.
const ARRIVALS = [0, 5, 9, 20, 31, 40, 47, 55, 70, 90, 100, 120];
// The sheet lists the arrivals but not their UIDs; this is the only assignment (of all 7,920) that
// reproduces every slice list and mean wait of its table.
const UIDS = [18, 2, 6, 2, 2, 6, 18, 2, 2, 6, 2, 2];
const BURST: Record<number, number> = { 2: 12, 6: 45, 18: 130 };

test('§4.5 worked example uses 7 / 3 / 2 jobs', () => {
  const count = (u: number) => UIDS.filter((x) => x === u).length;
  assert.deepEqual([count(2), count(6), count(18)], [7, 3, 2]);
});

function workedJobs(): TickJob[] {
  return ARRIVALS.map((a, i) => ({ id: i + 2, uid: UIDS[i]!, arrival: a, burst: BURST[UIDS[i]!]! }));
}

test('§4.5 replay: slices, means, stdevs and mean first waits per UID', () => {
  const rows = artifactReplay(workedJobs(), 'srtf', 8);
  const per = (u: number) => rows.filter((r) => r.uid === u);
  assert.deepEqual(per(2).flatMap((r) => r.slices), [12, 12, 12, 12, 12, 12, 12]);
  assert.deepEqual(per(6).flatMap((r) => r.slices), [12, 8, 25, 45, 45]);
  assert.deepEqual(per(18).flatMap((r) => r.slices), [8, 122, 130]);
  const meanWait = (u: number) => per(u).reduce((s, r) => s + r.wait, 0) / per(u).length;
  assert.ok(Math.abs(meanWait(2) - 4.142857) < 1e-3);
  assert.ok(Math.abs(meanWait(6) - 74.666667) < 1e-3);
  assert.equal(meanWait(18), 151);
});

for (const [util, expected] of [[40, [24, 24, 24]], [90, [14, 8, 4]]] as const) {
  test(`§4.5 artifact slices at l=${util}: ${expected.join('/')} ms, priority = UID, UID 1 inserted`, () => {
    const params = { ...defaultLearnerParams('artifact'), alpha: 2 };
    const { fresh, stats } = learnFromTickRows(artifactReplay(workedJobs(), 'srtf', 8), params, undefined, util);
    assert.deepEqual(stats.map((s) => s.funcId), [2, 6, 18]);
    const slice = (u: number) => fresh.find((e) => e.funcId === u)!;
    assert.deepEqual([2, 6, 18].map((u) => slice(u).sliceNs / 1e6), expected);
    assert.deepEqual([2, 6, 18].map((u) => slice(u).rank), [2, 6, 18]);
    assert.deepEqual(slice(1), { funcId: 1, rank: 1, sliceNs: 0 });
    const stdev6 = stats.find((s) => s.funcId === 6)!.stdevNs / 1e6;
    assert.ok(Math.abs(stdev6 - 15.74) < 0.01);
  });
}

test('§4.5 with artifact quirks off (paper Eq. 2/3, ranks, no cap chain) gives ≈14/23/70 ms at l=90', () => {
  const params = { ...defaultLearnerParams('artifact'), alpha: 2, monotoneCap: 'off' as const, priorityIsFuncId: false };
  const { fresh } = learnFromTickRows(artifactReplay(workedJobs(), 'srtf', 8), params, undefined, 90);
  const slice = (u: number) => fresh.find((e) => e.funcId === u)!;
  assert.deepEqual([2, 6, 18].map((u) => slice(u).sliceNs / 1e6), [14, 22, 70]);
  assert.deepEqual([2, 6, 18].map((u) => slice(u).rank), [2, 3, 4]);
});

test('§4.5 end to end through learnPolicy in artifact mode (cpus=1 keeps every record, scale 1)', () => {
  const records: InvocationRecord[] = ARRIVALS.map((a, i) => {
    const b = BURST[UIDS[i]!]!;
    return { funcId: UIDS[i]!, arrivalNs: a * 1e6, endNs: (a + b) * 1e6, cpuNs: b * 1e6 };
  });
  const p = { mode: 'artifact' as const, alpha: 2, cpus: 1, cpuTimeScale: 1 };
  const at40 = learnPolicy(records, p, undefined, 40);
  assert.deepEqual(at40.entries.map((e) => [e.funcId, e.rank, e.sliceNs / 1e6]), [[1, 1, 0], [2, 2, 24], [6, 6, 24], [18, 18, 24]]);
  const at90 = learnPolicy(records, p, at40, 90);
  assert.deepEqual(at90.entries.map((e) => [e.funcId, e.sliceNs / 1e6]), [[1, 0], [2, 14], [6, 8], [18, 4]]);
  assert.equal(at90.generation, 2);
});

test('artifact default α is 1 and smoothing stays dead (docs/artifact-algorithm.md §4.4 step 5)', () => {
  const d = defaultLearnerParams('artifact');
  assert.equal(d.alpha, 1);
  assert.equal(d.smoothing, 0);
  assert.equal(defaultLearnerParams().alpha, 2);
});
