import { Rng } from '../core/prng.js';
import type { InvocationRecord } from '../core/records.js';
import { AlpsLearner } from './learner.js';
import type { AlpsParams } from './params.js';

/**
 * Runs `rounds` learning rounds of a throwaway learner with `params` on synthetic records, so
 * that a live agent's first real rounds run compiled code: under emulation (the TCG guest of
 * the real A/B) a cold round costs ~10× a warm one, and V8 compiles the learner's hot paths on
 * background threads during the first rounds. Nothing of it reaches the caller's learner: the
 * live learner still learns only from what it observes. Returns the CPU time spent (ms).
 */
export function warmUpLearner(params: Readonly<AlpsParams>, rounds = 4, recordsPerRound = 400): number {
  const u0 = process.cpuUsage();
  const l = new AlpsLearner({ ...params });
  const w = params.windowNs;
  const rng = new Rng(1, 'learner-warm-up');
  const rnd = (): number => rng.next();
  for (let k = 1; k <= rounds; k++) {
    const recs: InvocationRecord[] = [];
    for (let i = 0; i < recordsPerRound; i++) {
      const funcId = 1 + Math.floor(rnd() * 40);
      const cpuNs = Math.round(1e6 * (1 + funcId * funcId * rnd()));
      const arrivalNs = Math.round((k - 1) * w + rnd() * w * 0.8);
      recs.push({ funcId, arrivalNs, endNs: arrivalNs + cpuNs * (1 + 3 * rnd()), cpuNs });
    }
    l.observe(recs);
    l.learn(k * w, 50 + 50 * rnd());
  }
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / 1000;
}
