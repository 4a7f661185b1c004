import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import type { LearnerParams, Policy, PolicyLearner } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';
import type { Ns } from '../core/time.js';
import type { LiveLearner } from './live/replay-learner.js';
import type { ControlTarget, TelemetryPublisher } from './publisher.js';
import type { ParamsPatch } from './schema.js';

/**
 * A learner an operator can steer over telemetry while an enforcer (the ghOSt agent, the
 * sched_ext backend) uses it: hand it to the enforcer as its PolicyLearner and to
 * `startTelemetry` as its `control`. Parameter changes and pins go to the wrapped learner, which
 * validates them (a refused change throws InputError and changes nothing) and applies them from
 * its next round; while paused, rounds keep the policy in force and observe() still fills the
 * window, so resuming learns from recent history. Every change is published as a `state` frame,
 * and every new generation as a `policy` frame.
 */
export class ControlledLearner implements PolicyLearner, ControlTarget {
  private paused = false;
  private readonly pins = new Map<FuncId, { rank?: number; sliceNs?: Ns }>();
  private lastPublished = 0;
  private nowNs: Ns = 0;

  constructor(
    private readonly inner: LiveLearner,
    private readonly pub?: TelemetryPublisher,
  ) {}

  get params(): Readonly<LearnerParams> {
    return this.inner.params;
  }

  get current(): Policy | undefined {
    return this.inner.current;
  }

  get learning(): 'running' | 'paused' {
    return this.paused ? 'paused' : 'running';
  }

  observe(records: readonly InvocationRecord[]): void {
    this.inner.observe(records);
  }

  learn(nowNs: Ns, utilisationPct: number): Policy {
    this.nowNs = nowNs;
    if (this.paused) return this.inner.current ?? { generation: 0, params: { ...this.inner.params }, entries: [] };
    const p = this.inner.learn(nowNs, utilisationPct);
    if (p.generation > this.lastPublished) {
      this.lastPublished = p.generation;
      this.pub?.policy(p, nowNs);
    }
    return p;
  }

  setParams(patch: ParamsPatch): void {
    this.inner.setParams(patch);
    this.publishState();
  }

  pause(): void {
    this.paused = true;
    this.publishState();
  }

  resume(): void {
    this.paused = false;
    this.publishState();
  }

  pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): void {
    if (!this.inner.pin) throw new InputError('pin', 'this learner cannot pin functions');
    this.inner.pin(funcId, pin);
    this.pins.set(funcId, { ...this.pins.get(funcId), ...pin });
    this.publishState();
  }

  unpin(funcId: FuncId): void {
    if (!this.pins.has(funcId)) throw new InputError(`funcId ${funcId}`, 'is not pinned');
    this.inner.unpin?.(funcId);
    this.pins.delete(funcId);
    this.publishState();
  }

  snapshot(): unknown {
    return { atNs: this.nowNs, params: this.inner.params, learning: this.learning, pins: this.pinList(), policy: this.inner.current ?? null };
  }

  private pinList(): Array<{ funcId: FuncId; rank?: number; sliceNs?: Ns }> {
    return [...this.pins].map(([funcId, p]) => ({ funcId, ...p }));
  }

  private publishState(): void {
    this.pub?.state({ atNs: this.nowNs, learning: this.learning, pins: this.pinList() });
  }
}
