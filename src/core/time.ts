/**
 * Time is nanoseconds everywhere inside ghost-alps (a JS number holds integers exactly up to
 * 2^53 ns ≈ 104 days, far beyond any window or run). Convert only at the edges: CLI flags,
 * reports, trace files that say otherwise.
 */
export type Ns = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

export const usToNs = (us: number): Ns => Math.round(us * NS_PER_US);
export const msToNs = (ms: number): Ns => Math.round(ms * NS_PER_MS);
export const sToNs = (s: number): Ns => Math.round(s * NS_PER_S);
export const nsToUs = (ns: Ns): number => ns / NS_PER_US;
export const nsToMs = (ns: Ns): number => ns / NS_PER_MS;
export const nsToS = (ns: Ns): number => ns / NS_PER_S;

/** True for a finite, non-negative integer number of nanoseconds. */
export function isNs(value: unknown): value is Ns {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
