/**
 * Seeded PRNG (mulberry32 over a splitmix32-scrambled seed). The machine never calls
 * Math.random: every random choice (tick phase, the invoker's CPU) comes from here, so one
 * seed gives one result.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // splitmix32 scramble so that nearby seeds give unrelated streams.
    let z = (seed | 0) + 0x9e3779b9;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.state = (z ^ (z >>> 16)) >>> 0;
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
