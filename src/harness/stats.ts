/**
 * Order statistics used by every report. Percentiles interpolate linearly between closest
 * ranks (the "type 7" definition numpy and most plotting tools use), so p50 of [1, 2, 3, 4]
 * is 2.5 and p99 of a 100-element sample sits between its two largest values.
 */

/** Sorted copy (ascending). */
export function sortedCopy(xs: readonly number[]): Float64Array {
  const a = Float64Array.from(xs);
  a.sort();
  return a;
}

/** Percentile q ∈ [0, 100] of an ascending sample; NaN for an empty one. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${q}`);
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/**
 * Empirical CDF of an ascending sample, reduced to at most `points` steps for plotting:
 * pairs [value, fraction ≤ value]. The first and last samples are always kept, and the upper
 * tail (top 2%) is kept at full resolution up to the budget so p99+ shapes survive.
 */
export function cdfPoints(sorted: ArrayLike<number>, points = 200): [number, number][] {
  const n = sorted.length;
  if (n === 0) return [];
  const idx = new Set<number>();
  const body = Math.max(2, Math.floor(points * 0.75));
  for (let k = 0; k < body; k++) idx.add(Math.round((k / (body - 1)) * (n - 1)));
  const tailStart = Math.floor(n * 0.98);
  const tailBudget = points - body;
  const step = Math.max(1, Math.ceil((n - tailStart) / Math.max(1, tailBudget)));
  for (let i = tailStart; i < n; i += step) idx.add(i);
  idx.add(n - 1);
  return [...idx].sort((a, b) => a - b).map((i) => [sorted[i]!, (i + 1) / n]);
}

/** Counts of `times` in consecutive bins of width `binNs` starting at 0. */
export function histogramOverTime(times: readonly number[], binNs: number): number[] {
  let max = 0;
  for (const t of times) if (t > max) max = t;
  const bins = new Array<number>(Math.floor(max / binNs) + 1).fill(0);
  for (const t of times) bins[Math.floor(t / binNs)]!++;
  return bins;
}
