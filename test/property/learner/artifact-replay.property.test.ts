import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { artifactReplay, type TickJob } from '../../../src/learner/index.js';

const jobsArb = fc
  .array(fc.record({ uid: fc.integer({ min: 1, max: 6 }), arrival: fc.integer({ min: 0, max: 200 }), burst: fc.integer({ min: 1, max: 60 }) }), { minLength: 1, maxLength: 25 })
  .map((js) => js.map((j, i): TickJob => ({ ...j, id: i + 2 })));

for (const policy of ['srtf', 'rr', 'fifo'] as const) {
  test(`artifact tick replay (${policy}) conserves work and runs one job per tick`, () => {
    fc.assert(
      fc.property(jobsArb, fc.integer({ min: 1, max: 10 }), (jobs, q) => {
        const rows = artifactReplay(jobs, policy, q);
        assert.deepEqual(rows.map((r) => r.id).sort((a, b) => a - b), jobs.map((j) => j.id));
        const busy = new Set<number>();
        for (const r of rows) {
          assert.equal(r.slices.reduce((a, b) => a + b, 0), r.burst);
          assert.equal(r.duration, r.end - r.arrival);
          assert.equal(r.preemptions, r.slices.length - 1);
          assert.ok(r.wait >= 0);
          if (policy !== 'fifo') r.slices.slice(0, -1).forEach((s) => assert.ok(s >= q));
          r.slices.forEach((s, k) => {
            for (let t = r.switchTicks[k]! - s + 1; t <= r.switchTicks[k]!; t++) {
              assert.ok(!busy.has(t), `two jobs in tick ${t}`);
              assert.ok(t >= r.arrival);
              busy.add(t);
            }
          });
        }
      }),
      { numRuns: 200, seed: 99 },
    );
  });
}
