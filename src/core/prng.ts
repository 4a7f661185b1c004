/**
 * The one seeded pseudo-random generator of ghost-alps. Nothing calls Math.random, so one seed
 * gives one result: workload generation, the simulated machine (tick phase, the invoker's CPU),
 * the learner (artifact sampling, forest bootstraps) and predicted-size SRPT all draw from here.
 *
 * One seeding rule: `new Rng(seed, stream)`. Every consumer names its own stream, and the state
 * is derived from `seed XOR fnv1a(stream)` through splitmix32, so
 *  - nearby seeds (1, 2, 3…) give unrelated sequences, and
 *  - changing one knob (say the arrival law, or which function the learner is fitting) does not
 *    reshuffle another stream: A/B runs across loads see the same invocations.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's small fast counter): 128-bit state, passes
 * PractRand for far longer than anything here draws.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = '') {
    let s = (Math.trunc(seed) ^ hashString(stream)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next() | 0;
    this.b = next() | 0;
    this.c = next() | 0;
    this.d = next() | 0;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /**
   * Uniform 32-bit unsigned integer. The state is kept as int32 (`| 0`), not uint32 (`>>> 0`):
   * the same bits, but values V8 can keep unboxed — about 10× faster per draw than uint32
   * fields, which become heap numbers above 2^31.
   */
  u32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform integer in [0, n) (an index into n things). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Exponential with the given rate (mean 1/rate). */
  exp(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }

  /** Standard normal (Box–Muller; one value per call keeps the stream simple to reason about). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Poisson count with the given mean (Knuth's product method; fine for means up to ~500). */
  poisson(mean: number): number {
    if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Index drawn from non-negative weights (need not sum to 1). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}

/** FNV-1a of a string, to name independent streams under one seed. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
