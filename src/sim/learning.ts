import type { LearnerParams, Ns, Policy, PolicyLearner } from '../core/index.js';
import type { Machine } from './machine.js';
import type { SchedulerModel } from './model.js';
import { taskRecord } from './task.js';

/** Builds the learner an ALPS model is fed by (src/learner's AlpsLearner by default). */
export type LearnerFactory = (params: Partial<LearnerParams>) => PolicyLearner;

/** Default window when the learner does not say (the paper's W = 5 s). */
const DEFAULT_WINDOW_NS: Ns = 5_000_000_000;

/**
 * Feeds a learner with the machine's own completed invocations every W of virtual time and
 * installs each policy it returns into the model (the map write of in-kernel ALPS, or the
 * agent's policy for delegated ALPS). Utilisation is the machine's busy share over the round.
 */
export function attachLearner(
  machine: Machine,
  model: SchedulerModel,
  learner: PolicyLearner,
  installed: Policy[],
  onPolicy?: (policy: Policy, nowNs: Ns) => void,
): void {
  const period = learner.params.windowNs > 0 ? learner.params.windowNs : DEFAULT_WINDOW_NS;
  machine.collectFinished = true;
  let lastBusy = 0;
  let lastAt = 0;
  machine.addPeriodic({
    periodNs: period,
    run(now) {
      const fresh = machine.finishedSinceDrain.splice(0);
      if (fresh.length > 0) {
        learner.observe(
          fresh.map((t) => taskRecord(t, true)),
        );
      }
      const busy = machine.totalBusyNs();
      const span = (now - lastAt) * machine.ncpus;
      const util = span > 0 ? Math.min(100, (100 * (busy - lastBusy)) / span) : 0;
      lastBusy = busy;
      lastAt = now;
      const policy = learner.learn(now, util);
      installed.push(policy);
      model.setPolicy?.(policy);
      onPolicy?.(policy, now);
    },
  });
}
