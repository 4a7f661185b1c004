import type { FuncId } from '../../core/ids.js';
import { DelegatingLearner } from '../../core/delegating-learner.js';
import type { LearnerParams, Policy, PolicyLearner } from '../../core/policy.js';
import type { Ns } from '../../core/time.js';
import type { ParamsPatch } from '../schema.js';

/** The pin API of src/learner's AlpsLearner (optional: test learners may not have it). */
export interface Pinnable {
  pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): void;
  unpin(funcId: FuncId): void;
}
export type LiveLearner = PolicyLearner & Partial<Pinnable>;
export type LiveLearnerFactory = (params: Partial<LearnerParams>) => LiveLearner;

/** One operator action, stamped with the virtual time it was made at. */
export type ControlEvent =
  | { atNs: Ns; kind: 'set-params'; patch: ParamsPatch }
  | { atNs: Ns; kind: 'pause' | 'resume' }
  | { atNs: Ns; kind: 'pin'; funcId: FuncId; pin: { rank?: number; sliceNs?: Ns } }
  | { atNs: Ns; kind: 'unpin'; funcId: FuncId };

/** Apply one event to a learner (pause/resume are the wrapper's business, not the learner's). */
export function applyEvent(learner: LiveLearner, ev: ControlEvent): void {
  switch (ev.kind) {
    case 'set-params':
      learner.setParams(ev.patch);
      break;
    case 'pin':
      learner.pin?.(ev.funcId, ev.pin);
      break;
    case 'unpin':
      learner.unpin?.(ev.funcId);
      break;
    default:
      break;
  }
}

/**
 * Wraps a fresh learner for one replay of the live session's history: before each round it
 * applies the operator's actions stamped at or before that round's time, exactly as they were
 * applied live, so every replay reproduces the same generations. While paused a round installs
 * nothing new: it returns the policy already in force.
 */
export class ReplayLearner extends DelegatingLearner<LiveLearner> {
  private next = 0;
  private paused = false;
  /** (time, measured utilisation) of every round, for the utilisation timeline. */
  readonly rounds: Array<{ atNs: Ns; utilisationPct: number }> = [];

  constructor(
    inner: LiveLearner,
    private readonly log: readonly ControlEvent[],
  ) {
    super(inner);
  }

  override learn(nowNs: Ns, utilisationPct: number): Policy {
    while (this.next < this.log.length && this.log[this.next]!.atNs <= nowNs) {
      const ev = this.log[this.next++]!;
      if (ev.kind === 'pause') this.paused = true;
      else if (ev.kind === 'resume') this.paused = false;
      else applyEvent(this.inner, ev);
    }
    this.rounds.push({ atNs: nowNs, utilisationPct });
    if (this.paused) return this.inner.current ?? { generation: 0, params: { ...this.inner.params }, entries: [] };
    return this.inner.learn(nowNs, utilisationPct);
  }
}
