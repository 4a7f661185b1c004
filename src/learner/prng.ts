/**
 * The learner's seeded PRNG (artifact sampling, forest bootstraps): mulberry32 on the seed as
 * given, so the learner's output depends only on its inputs and its seed.
 */
export { Mulberry32 as Prng } from '../core/prng.js';

/** Mix two u32 values into a seed (so per-function streams do not depend on processing order). */
export function mixSeed(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
