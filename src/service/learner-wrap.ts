/**
 * Learner wrappers for the service: `TimedLearner` measures every round (the learner-round
 * metric, the round's log line); `SwitchLearner` keeps one learner object in the agent's hands
 * while the service swaps what is behind it (a reload that restarts telemetry replaces the
 * ControlledLearner that wraps the ALPS learner; the agent must not notice).
 */
import { DelegatingLearner } from '../core/delegating-learner.js';
import type { Policy, PolicyLearner } from '../core/policy.js';
import type { Ns } from '../core/time.js';

export class SwitchLearner extends DelegatingLearner {
  switchTo(l: PolicyLearner): void {
    this.inner = l;
  }
}

export class TimedLearner extends DelegatingLearner {
  constructor(
    inner: PolicyLearner,
    private readonly onRound: (seconds: number, policy: Policy, utilisationPct: number) => void,
  ) {
    super(inner);
  }
  override learn(nowNs: Ns, utilisationPct: number): Policy {
    const t0 = process.hrtime.bigint();
    const p = this.inner.learn(nowNs, utilisationPct);
    this.onRound(Number(process.hrtime.bigint() - t0) / 1e9, p, utilisationPct);
    return p;
  }
}
