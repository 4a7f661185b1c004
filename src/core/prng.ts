/**
 * mulberry32: a tiny, fast, seeded 32-bit PRNG for the learner's and the simulator's random
 * choices (nothing in ghost-alps calls Math.random, so one seed gives one result). The workload
 * generators use their own 128-bit-state generator with named streams (src/workload/rng.ts).
 */
export class Mulberry32 {
  private state: number;

  /** `state` is used as is; see scrambleSeed() for seeds that are small or close together. */
  constructor(state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** splitmix32 finaliser: nearby seeds (1, 2, 3…) give unrelated mulberry32 streams. */
export function scrambleSeed(seed: number): number {
  let z = (seed | 0) + 0x9e3779b9;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
