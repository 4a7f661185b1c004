import type { AlpsParams, Stacking } from './params.js';

/**
 * Overload penalty factor p (paper Eq. 3): 1 below θ, else (100 + θ − l) / (100·γ).
 * The artifact multiplies it by β (`betaInPenalty`); identical when β = 1 (docs/artifact-algorithm.md §4.6).
 * Note the paper's prose on γ is inverted: a *higher* p means a *longer* slice, i.e. less
 * CFS-like; we follow the formula.
 */
export function penaltyFactor(utilisationPct: number, p: Pick<AlpsParams, 'overload' | 'theta' | 'gamma' | 'beta' | 'betaInPenalty'>): number {
  if (!p.overload || utilisationPct < p.theta) return 1;
  const base = (100 + p.theta - utilisationPct) / (100 * p.gamma);
  return Math.max(0, p.betaInPenalty ? p.beta * base : base);
}

/**
 * Stacks p on the unpredictability slice ts_u. The paper writes ts_s = min(p·ts_u, ts_b), which
 * taken literally cancels any α > 1 reward (ts_b is the basic slice); we default to `clip`,
 * ts_s = min(p, 1)·ts_u (the reading the reader's note also arrives at). See params.ts `Stacking`.
 */
export function stack(tsU: number, p: number, basic: number, how: Stacking): number {
  switch (how) {
    case 'clip':
      return Math.min(p, 1) * tsU;
    case 'min-basic':
      return Math.min(p * tsU, basic);
    case 'raw':
      return p * tsU;
  }
}

/** Unpredictability fine-tuning, paper Eq. 2: max(α·ts − β·stdev, 0) (paper mode, no caps). */
export function unpredictable(basic: number, stdev: number, p: Pick<AlpsParams, 'alpha' | 'beta' | 'unpredictability'>): number {
  if (!p.unpredictability) return basic;
  return Math.max(p.alpha * basic - p.beta * stdev, 0);
}
