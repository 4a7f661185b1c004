/**
 * Learner wrappers for the service: `TimedLearner` measures every round (the learner-round
 * metric, the round's log line); `SwitchLearner` keeps one learner object in the agent's hands
 * while the service swaps what is behind it (a reload that restarts telemetry replaces the
 * ControlledLearner that wraps the ALPS learner; the agent must not notice).
 */
import type { LearnerParams, Policy, PolicyLearner } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';
import type { Ns } from '../core/time.js';

export class SwitchLearner implements PolicyLearner {
  constructor(private target: PolicyLearner) {}
  switchTo(l: PolicyLearner): void {
    this.target = l;
  }
  get params(): Readonly<LearnerParams> {
    return this.target.params;
  }
  get current(): Policy | undefined {
    return this.target.current;
  }
  observe(records: readonly InvocationRecord[]): void {
    this.target.observe(records);
  }
  learn(nowNs: Ns, utilisationPct: number): Policy {
    return this.target.learn(nowNs, utilisationPct);
  }
  setParams(patch: Partial<LearnerParams>): void {
    this.target.setParams(patch);
  }
}

export class TimedLearner implements PolicyLearner {
  constructor(
    private readonly inner: PolicyLearner,
    private readonly onRound: (seconds: number, policy: Policy, utilisationPct: number) => void,
  ) {}
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
    const t0 = process.hrtime.bigint();
    const p = this.inner.learn(nowNs, utilisationPct);
    this.onRound(Number(process.hrtime.bigint() - t0) / 1e9, p, utilisationPct);
    return p;
  }
  setParams(patch: Partial<LearnerParams>): void {
    this.inner.setParams(patch);
  }
}
