import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cdfPoints, percentileSorted, sortedCopy } from '../../../src/harness/stats.js';
import { table1Workload } from '../../../src/workload/table1.js';
import { offeredLoad } from '../../../src/workload/bundle.js';

const sample = fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 });

test('percentiles are monotone in q and stay within [min, max]', () => {
  fc.assert(
    fc.property(sample, fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (xs, a, b) => {
      const s = sortedCopy(xs);
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const pl = percentileSorted(s, lo);
      const ph = percentileSorted(s, hi);
      return pl <= ph + 1e-9 && pl >= s[0]! - 1e-9 && ph <= s[s.length - 1]! + 1e-9;
    }),
  );
});

test('CDF points are non-decreasing in both coordinates and end at fraction 1', () => {
  fc.assert(
    fc.property(sample, fc.integer({ min: 2, max: 250 }), (xs, points) => {
      const pts = cdfPoints(sortedCopy(xs), points);
      for (let i = 1; i < pts.length; i++) if (pts[i]![0] < pts[i - 1]![0] || pts[i]![1] <= pts[i - 1]![1]) return false;
      return pts[pts.length - 1]![1] === 1;
    }),
  );
});

test('any seed, CPU count and load: the Table 1 generator hits its offered load and is deterministic', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 64 }), fc.double({ min: 0.3, max: 1.2, noNaN: true }), (seed, cpus, load) => {
      const a = table1Workload({ mix: 'azure', invocations: 3000, cpus, load, seed });
      const b = table1Workload({ mix: 'azure', invocations: 3000, cpus, load, seed });
      assert.deepEqual(a.workload.invocations, b.workload.invocations);
      // Exponential gaps: the span of 3000 arrivals has a CV of ~1.8%, so 8% is > 4 sigma.
      return Math.abs(offeredLoad(a.workload, cpus) - load) / load < 0.08;
    }),
    { numRuns: 25 },
  );
});
