import { InputError } from '../core/errors.js';
import type { Ns } from '../core/time.js';
import type { Rng } from '../core/prng.js';

/**
 * Arrival laws. All produce `n` arrival times (ns, non-decreasing, first one after one gap)
 * with mean inter-arrival gap `meanGapNs`, so a generator scales them to a target utilisation
 * by choosing the mean gap alone (λ = U·C/E[S], mean gap = 1/λ).
 *
 * - `exponential`: a Poisson process (what the ALPS paper describes).
 * - `poisson-count`: the artifact's replay law — each gap is a Poisson(25) integer count of
 *   units (CV ≈ 0.2, far smoother than exponential); the unit is meanGap/25.
 * - `bursty`: a two-state Markov-modulated Poisson process. In the high state the rate is
 *   `factor` times the low state's; the high state holds a fraction `highFraction` of the
 *   time and lasts on average `burstArrivals` arrivals. The long-run mean gap is preserved.
 */
export type ArrivalLaw = 'exponential' | 'poisson-count' | 'bursty';
export const ARRIVAL_LAWS: readonly ArrivalLaw[] = ['exponential', 'poisson-count', 'bursty'];

export interface BurstOptions {
  /** Rate in the high state over rate in the low state (> 1). Default 8. */
  factor?: number;
  /** Fraction of time spent in the high state (0–1). Default 0.1. */
  highFraction?: number;
  /** Mean arrivals per high-state episode. Default 200. */
  burstArrivals?: number;
}

/** What every generated workload is sized and paced by (the Table 1 mixes, io-mix, `--workload`). */
export interface GenerationOptions {
  invocations: number;
  cpus: number;
  /** Target average CPU utilisation, 0 < load (1 = every CPU busy on average). */
  load: number;
  seed: number;
  arrivals?: ArrivalLaw;
  burst?: BurstOptions;
}

/** Mean of the artifact's Poisson gap counts (docs/artifact-traces.md §3). */
export const ARTIFACT_GAP_MEAN_UNITS = 25;

export function parseArrivalLaw(s: string, where: string): ArrivalLaw {
  if ((ARRIVAL_LAWS as readonly string[]).includes(s)) return s as ArrivalLaw;
  throw new InputError(where, `unknown arrival law "${s}" (one of ${ARRIVAL_LAWS.join(', ')})`);
}

export function arrivalTimes(n: number, meanGapNs: number, law: ArrivalLaw, rng: Rng, burst: BurstOptions = {}): Ns[] {
  if (!(meanGapNs > 0) || !Number.isFinite(meanGapNs)) throw new InputError('mean inter-arrival gap', `must be a positive finite number, got ${meanGapNs}`);
  const out = new Array<Ns>(n);
  let t = 0;
  if (law === 'exponential') {
    for (let i = 0; i < n; i++) {
      t += rng.exp(1 / meanGapNs);
      out[i] = Math.round(t);
    }
    return out;
  }
  if (law === 'poisson-count') {
    const unit = meanGapNs / ARTIFACT_GAP_MEAN_UNITS;
    for (let i = 0; i < n; i++) {
      t += rng.poisson(ARTIFACT_GAP_MEAN_UNITS) * unit;
      out[i] = Math.round(t);
    }
    return out;
  }
  const factor = burst.factor ?? 8;
  const f = burst.highFraction ?? 0.1;
  const burstArrivals = burst.burstArrivals ?? 200;
  if (!(factor > 1)) throw new InputError('burst factor', `must be > 1, got ${factor}`);
  if (!(f > 0 && f < 1)) throw new InputError('burst high fraction', `must be in (0, 1), got ${f}`);
  if (!(burstArrivals > 0)) throw new InputError('burst arrivals', `must be > 0, got ${burstArrivals}`);
  // Mean rate λ = f·λh + (1−f)·λl with λh = factor·λl.
  const lambda = 1 / meanGapNs;
  const lowRate = lambda / (f * factor + 1 - f);
  const highRate = factor * lowRate;
  const highMeanNs = burstArrivals / highRate;
  const lowMeanNs = (highMeanNs * (1 - f)) / f;
  let high = rng.next() < f;
  let stateEnd = rng.exp(1 / (high ? highMeanNs : lowMeanNs));
  for (let i = 0; i < n; i++) {
    // Memoryless: when a gap crosses the state boundary, restart the draw in the new state.
    while (true) {
      const gap = rng.exp(high ? highRate : lowRate);
      if (t + gap <= stateEnd) {
        t += gap;
        break;
      }
      t = stateEnd;
      high = !high;
      stateEnd = t + rng.exp(1 / (high ? highMeanNs : lowMeanNs));
    }
    out[i] = Math.round(t);
  }
  return out;
}
