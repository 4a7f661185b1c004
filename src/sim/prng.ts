import { Mulberry32, scrambleSeed } from '../core/prng.js';

/**
 * The machine's seeded PRNG: mulberry32 over a scrambled seed, so runs with seeds 1, 2, 3 are
 * unrelated. The machine never calls Math.random: every random choice (tick phase, the invoker's
 * CPU) comes from here, so one seed gives one result.
 */
export class Prng extends Mulberry32 {
  constructor(seed: number) {
    super(scrambleSeed(seed));
  }
}
