import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InvocationRecord } from '../../../src/core/index.js';
import { AlpsLearner } from '../../../src/learner/index.js';

const MS = 1e6;

/**
 * A stream of completed invocations as a busy host reports them: a short function (5–15 ms) and
 * a long one (≥ 10× any short invocation), plus medium noise, each ending after its CPU time plus
 * an arbitrary host wait — so long invocations often arrive one or more windows before they end.
 */
const streamArb = fc.array(
  fc.record({
    kind: fc.constantFrom('short', 'long', 'medium'),
    arrivalMs: fc.integer({ min: 0, max: 6000 }),
    cpuFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    hostWaitMs: fc.integer({ min: 0, max: 3000 }),
  }),
  { minLength: 5, maxLength: 150 },
);

function toRecord(x: { kind: string; arrivalMs: number; cpuFrac: number; hostWaitMs: number }): InvocationRecord {
  const [funcId, lo, hi] = x.kind === 'short' ? [1, 5, 15] : x.kind === 'long' ? [2, 150, 1500] : [3 + Math.floor(x.cpuFrac * 3), 20, 60];
  const cpuNs = Math.round((lo + (hi - lo) * x.cpuFrac) * MS);
  const arrivalNs = x.arrivalMs * MS;
  return { funcId, arrivalNs, cpuNs, endNs: arrivalNs + cpuNs + x.hostWaitMs * MS };
}

// Holds for the default rank statistic (mean replay turnaround). It does NOT hold for the paper's
// bare mean wait (`rankBy: 'wait'`): four 5 ms jobs at t = 0 and a 150 ms job at 13 ms on one CPU
// give the short function a mean wait of 7.5 ms and the long one 7 ms — one reason for the default.
test('a function whose invocations are ≥ 10× longer than another’s never gets a better rank', () => {
  fc.assert(
    fc.property(streamArb, fc.integer({ min: 1, max: 8 }), fc.boolean(), (stream, cpus, ioAware) => {
      const records = stream.map(toRecord).sort((a, b) => a.endNs - b.endNs);
      const l = new AlpsLearner({ cpus, windowNs: 1000 * MS, ioAware });
      let i = 0;
      for (let now = 1000 * MS; now <= 10_000 * MS; now += 1000 * MS) {
        const batch: InvocationRecord[] = [];
        while (i < records.length && records[i]!.endNs <= now) batch.push(records[i++]!);
        l.observe(batch);
        const p = l.learn(now, 90);
        const short = p.entries.find((e) => e.funcId === 1);
        const long = p.entries.find((e) => e.funcId === 2);
        if (short && long) assert.ok(long.rank >= short.rank, `at ${now / MS} ms: long rank ${long.rank} < short rank ${short.rank}`);
      }
    }),
    { numRuns: 150, seed: 20261122 },
  );
});
