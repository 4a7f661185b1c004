import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdfPoints, histogramOverTime, mean, percentileSorted, sortedCopy } from '../../../src/harness/stats.js';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test('percentiles interpolate between closest ranks (type 7) on known data', () => {
  const one100 = sortedCopy(Array.from({ length: 100 }, (_, i) => 100 - i)); // 1..100, given reversed
  close(percentileSorted(one100, 50), 50.5);
  close(percentileSorted(one100, 90), 90.1);
  close(percentileSorted(one100, 99), 99.01);
  close(percentileSorted(one100, 99.9), 99.901);
  close(percentileSorted(one100, 0), 1);
  close(percentileSorted(one100, 100), 100);
  const s = sortedCopy([1, 2, 3, 4]);
  close(percentileSorted(s, 50), 2.5);
  close(percentileSorted(sortedCopy([7]), 99), 7);
  assert.ok(Number.isNaN(percentileSorted(new Float64Array(0), 50)));
  assert.throws(() => percentileSorted(s, 101), RangeError);
  close(mean([1, 2, 3, 4]), 2.5);
});

test('sortedCopy sorts numerically, not lexically', () => {
  assert.deepEqual([...sortedCopy([10, 9, 100, 1])], [1, 9, 10, 100]);
});

test('CDF points: monotone, end at (max, 1), bounded in size, keep the tail', () => {
  const xs = sortedCopy(Array.from({ length: 10000 }, (_, i) => i));
  const pts = cdfPoints(xs, 200);
  assert.ok(pts.length <= 200 + 2);
  assert.deepEqual(pts[pts.length - 1], [9999, 1]);
  for (let i = 1; i < pts.length; i++) {
    assert.ok(pts[i]![0] >= pts[i - 1]![0]);
    assert.ok(pts[i]![1] > pts[i - 1]![1]);
  }
  assert.ok(pts.filter(([, f]) => f >= 0.98).length >= 40, 'tail kept at higher resolution');
  assert.deepEqual(cdfPoints(sortedCopy([5]), 10), [[5, 1]]);
});

test('histogram over time counts completions per bin', () => {
  assert.deepEqual(histogramOverTime([0, 1, 9, 10, 25], 10), [3, 1, 1]);
});
