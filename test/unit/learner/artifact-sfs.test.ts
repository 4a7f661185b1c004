import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactReplay } from '../../../src/learner/index.js';

// Golden Test 3 of docs/artifact-algorithm.md §3.7: the artifact simulator's SFS, q = 6,
// period = 2. Job 1 is re-picked after each of its demoted-level quanta (FIFO by id), job 3 waits
// for job 2's first-level quantum, job 2 finishes last in one long run.
test('artifact SFS reproduces golden Test 3 exactly', () => {
  const rows = artifactReplay(
    [
      { id: 1, uid: 1, arrival: 0, burst: 40 },
      { id: 2, uid: 2, arrival: 2, burst: 40 },
      { id: 3, uid: 3, arrival: 5, burst: 3 },
    ],
    'sfs',
    6,
    2,
  );
  const by = new Map(rows.map((r) => [r.id, r]));
  assert.equal(by.get(3)!.wait, 7);
  assert.deepEqual(by.get(3)!.slices, [3]);
  assert.deepEqual(by.get(1)!.slices, [6, 6, 6, 6, 6, 6, 4]);
  assert.deepEqual(by.get(1)!.switchTicks, [5, 20, 26, 32, 38, 44, 48]);
  assert.deepEqual(by.get(2)!.slices, [6, 34]);
  assert.equal(by.get(2)!.end, 82);
});

test('artifact SFS: the first-level quantum follows the mean inter-arrival gap, at least q', () => {
  // Arrivals every 20 ticks, period 2: after the update at the third arrival (t = 40) the
  // first-level quantum is trunc(40 / 2) = 20, so a 30-tick job runs 20 ticks before it is
  // demoted (another job waits), not the base 6.
  const rows = artifactReplay(
    [
      { id: 1, uid: 1, arrival: 0, burst: 1 },
      { id: 2, uid: 1, arrival: 20, burst: 1 },
      { id: 3, uid: 2, arrival: 40, burst: 30 },
      { id: 4, uid: 3, arrival: 41, burst: 5 },
    ],
    'sfs',
    6,
    2,
  );
  const job3 = rows.find((r) => r.id === 3)!;
  assert.equal(job3.slices[0], 20);
  assert.throws(() => artifactReplay([{ id: 1, uid: 1, arrival: 0, burst: 1 }], 'sfs', 6, 0), /artifact replay period: must be an integer ≥ 1/);
});
