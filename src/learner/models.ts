import type { SliceModel } from '../core/policy.js';
import { forestPredictNext } from './forest.js';
import { mean } from './stats.js';

/** What the time-slice models need besides the series. */
export interface ModelOptions {
  ewmaLambda: number;
  forestTrees: number;
  /** The learner's seed; with `stream`, names this function's forest stream (core/prng.ts). */
  seed: number;
  stream: string;
}

/**
 * Ordinary least squares of y on x = 1..n, predicted at x = n + 1. One point (or no spread in x)
 * gives that point, as scikit-learn's LinearRegression does.
 */
export function linregPredictNext(ys: ArrayLike<number>): number {
  const n = ys.length;
  if (n === 0) return 0;
  if (n === 1) return ys[0]!;
  const mx = (n + 1) / 2;
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = i + 1 - mx;
    sxy += dx * (ys[i]! - my);
    sxx += dx * dx;
  }
  return my + (sxy / sxx) * (n + 1 - mx);
}

/**
 * Exponentially weighted mean, pandas `ewm(alpha=λ, adjust=True).mean()` at the last point:
 * y_t weighted by (1 − λ)^(n − t), normalised.
 */
export function ewmaLast(ys: ArrayLike<number>, lambda: number): number {
  const n = ys.length;
  if (n === 0) return 0;
  const decay = 1 - lambda;
  let num = 0;
  let den = 0;
  // Horner form from the oldest point: num ← num·decay + y.
  for (let i = 0; i < n; i++) {
    num = num * decay + ys[i]!;
    den = den * decay + 1;
  }
  return num / den;
}

/** The basic time slice ts_i = train_ts(TS_i) of paper Eq. 1 (same unit as the series). */
export function basicSlice(model: SliceModel, ys: ArrayLike<number>, o: ModelOptions): number {
  switch (model) {
    case 'avg':
      return mean(ys);
    case 'linreg':
      return linregPredictNext(ys);
    case 'ewma':
      return ewmaLast(ys, o.ewmaLambda);
    case 'forest':
      return forestPredictNext(ys, o.forestTrees, o.seed, o.stream);
  }
}
