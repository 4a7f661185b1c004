import type { LearnerParams, Policy, PolicyLearner } from './policy.js';
import type { InvocationRecord } from './records.js';
import type { Ns } from './time.js';

/**
 * A PolicyLearner that hands every call to `inner`: the base of the wrappers that add one thing
 * around a learner (timing a round, replaying operator actions, swapping the learner behind a
 * stable object) and override only the calls they change.
 */
export class DelegatingLearner<L extends PolicyLearner = PolicyLearner> implements PolicyLearner {
  constructor(protected inner: L) {}
  get params(): Readonly<LearnerParams> {
    return this.inner.params;
  }
  get current(): Policy | undefined {
    return this.inner.current;
  }
  observe(records: readonly InvocationRecord[]): void {
    this.inner.observe(records);
  }
  learn(nowNs: Ns, utilisationPct: number): Policy {
    return this.inner.learn(nowNs, utilisationPct);
  }
  setParams(patch: Partial<LearnerParams>): void {
    this.inner.setParams(patch);
  }
}
