import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrivalTimes } from '../../../src/workload/arrivals.js';
import { Rng } from '../../../src/core/prng.js';

const gaps = (ts: number[]): number[] => ts.map((t, i) => t - (i ? ts[i - 1]! : 0));
const stats = (xs: number[]): { mean: number; cv: number } => {
  const m = xs.reduce((a, x) => a + x, 0) / xs.length;
  const v = xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length;
  return { mean: m, cv: Math.sqrt(v) / m };
};
/** Variance-to-mean ratio of arrival counts in windows of `w` ns (1 for Poisson). */
const dispersion = (ts: number[], w: number): number => {
  const counts = new Array(Math.floor(ts[ts.length - 1]! / w)).fill(0);
  for (const t of ts) if (Math.floor(t / w) < counts.length) counts[Math.floor(t / w)]++;
  const s = stats(counts);
  return (s.cv * s.mean) ** 2 / s.mean;
};

test('exponential: mean gap as asked, CV ≈ 1', () => {
  const s = stats(gaps(arrivalTimes(20000, 5e6, 'exponential', new Rng(1))));
  assert.ok(Math.abs(s.mean - 5e6) / 5e6 < 0.03, String(s.mean));
  assert.ok(Math.abs(s.cv - 1) < 0.05, String(s.cv));
});

test('poisson-count (artifact law): mean gap as asked, CV ≈ 0.2, integer multiples of the unit', () => {
  const ts = arrivalTimes(20000, 5e6, 'poisson-count', new Rng(2));
  const s = stats(gaps(ts));
  assert.ok(Math.abs(s.mean - 5e6) / 5e6 < 0.02);
  assert.ok(Math.abs(s.cv - 0.2) < 0.02, String(s.cv));
});

test('bursty: same long-run rate, counts far more dispersed than Poisson', () => {
  const ts = arrivalTimes(40000, 5e6, 'bursty', new Rng(3));
  const s = stats(gaps(ts));
  assert.ok(Math.abs(s.mean - 5e6) / 5e6 < 0.15, String(s.mean));
  const poisson = arrivalTimes(40000, 5e6, 'exponential', new Rng(3));
  assert.ok(dispersion(poisson, 1e9) < 1.5);
  assert.ok(dispersion(ts, 1e9) > 5, String(dispersion(ts, 1e9)));
});

test('deterministic per seed, non-decreasing', () => {
  for (const law of ['exponential', 'poisson-count', 'bursty'] as const) {
    const a = arrivalTimes(500, 1e6, law, new Rng(9, 'x'));
    assert.deepEqual(a, arrivalTimes(500, 1e6, law, new Rng(9, 'x')));
    assert.notDeepEqual(a, arrivalTimes(500, 1e6, law, new Rng(9, 'y')));
    for (let i = 1; i < a.length; i++) assert.ok(a[i]! >= a[i - 1]!);
  }
});
