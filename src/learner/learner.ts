import { InputError } from '../core/errors.js';
import { isFuncId, type FuncId } from '../core/ids.js';
import type { LearnerParams, Policy, PolicyLearner } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';
import type { Ns } from '../core/time.js';
import { learnRound } from './learn.js';
import type { LearnRound, RankKey } from './round.js';
import { MAX_RANK, resolveParams, SLICE_LIMIT_NS, type AlpsParams } from './params.js';
import type { Pin } from './policy-build.js';

/**
 * The ALPS learner loop (paper §5.1 steps 1–3): completed invocations go into a buffer; every
 * round (`learn(now, l)`, called every W by the simulator or a live host) takes the records that
 * completed in (now − W, now], newest `maxRecords` of them, replays and learns, and returns a
 * Policy one generation past the previous one. In artifact mode the window is the artifact's:
 * a 1/cpus sample of everything observed, last `maxRecords` kept (bounded here to the newest
 * 4·maxRecords·cpus records, which is all that sample can ever reach at its cut).
 */
export class AlpsLearner implements PolicyLearner {
  private p: AlpsParams;
  private buffer: InvocationRecord[] = [];
  private last: Policy | undefined;
  private lastRound: LearnRound | undefined;
  private ages = new Map<FuncId, number>();
  private keys = new Map<FuncId, RankKey>();
  private readonly pins = new Map<FuncId, Pin>();

  constructor(params: Partial<AlpsParams> = {}) {
    this.p = resolveParams(params);
  }

  get params(): Readonly<AlpsParams> {
    return this.p;
  }

  get current(): Policy | undefined {
    return this.last;
  }

  /** Details of the newest round (per-function statistics, penalty), or undefined before it. */
  get lastRoundStats(): LearnRound | undefined {
    return this.lastRound;
  }

  /** Records currently buffered. */
  get buffered(): number {
    return this.buffer.length;
  }

  setParams(patch: Partial<AlpsParams>): void {
    this.p = resolveParams(patch, this.p);
  }

  observe(records: readonly InvocationRecord[]): void {
    for (const r of records) this.buffer.push(r);
    const cap = this.bufferCap();
    if (this.buffer.length > 2 * cap) this.trim(cap);
  }

  /** Fix a function's rank and/or slice in every policy from the next round on. */
  pin(funcId: FuncId, pin: Pin): void {
    if (!isFuncId(funcId)) throw new InputError('pin funcId', `must be an integer in 1..${0xffff_ffff}, got ${funcId}`);
    if (pin.rank === undefined && pin.sliceNs === undefined) throw new InputError('pin', 'give a rank, a sliceNs, or both');
    if (pin.rank !== undefined && (!Number.isInteger(pin.rank) || pin.rank < 1 || pin.rank > MAX_RANK)) {
      throw new InputError('pin rank', `must be an integer in 1..${MAX_RANK}, got ${pin.rank}`);
    }
    if (pin.sliceNs !== undefined && (!Number.isInteger(pin.sliceNs) || pin.sliceNs < 0 || pin.sliceNs > SLICE_LIMIT_NS)) {
      throw new InputError('pin sliceNs', `must be an integer in 0..${SLICE_LIMIT_NS} ns, got ${pin.sliceNs}`);
    }
    const clean: Pin = {};
    if (pin.rank !== undefined) clean.rank = pin.rank;
    if (pin.sliceNs !== undefined) clean.sliceNs = pin.sliceNs;
    this.pins.set(funcId, clean);
  }

  /** Remove a pin; returns whether there was one. */
  unpin(funcId: FuncId): boolean {
    return this.pins.delete(funcId);
  }

  /** Current pins. */
  get pinned(): ReadonlyMap<FuncId, Pin> {
    return this.pins;
  }

  /**
   * The records a round at `nowNs` would learn from (before the record cap), dropping buffered
   * records that can never be in a window again.
   */
  windowRecords(nowNs: Ns): InvocationRecord[] {
    if (this.p.mode === 'artifact') {
      this.trim(this.bufferCap());
      return this.buffer;
    }
    const from = nowNs - this.p.windowNs;
    // Records that completed before the window can never re-enter a later one: drop them.
    this.buffer = this.buffer.filter((r) => r.endNs > from);
    return this.buffer.filter((r) => r.endNs <= nowNs);
  }

  learn(nowNs: Ns, utilisationPct: number): Policy {
    if (typeof nowNs !== 'number' || !Number.isFinite(nowNs) || nowNs < 0) throw new InputError('learn nowNs', `must be a finite time ≥ 0, got ${nowNs}`);
    const window = this.windowRecords(nowNs);
    const round = learnRound(window, this.p, this.last, utilisationPct, {
      ages: this.ages,
      pins: this.pins,
      keys: this.keys,
      windowStartNs: nowNs - this.p.windowNs,
    });
    // E[CPU] per function for the ALPS rule's escape deadline: this window's mean, else the
    // value a carried entry had.
    const meanCpu = new Map(round.functions.map((f) => [f.funcId, f.meanCpuNs]));
    const before = new Map((this.last?.entries ?? []).map((e) => [e.funcId, e.expectedCpuNs]));
    for (const e of round.policy.entries) {
      const m = meanCpu.get(e.funcId) ?? before.get(e.funcId);
      if (m !== undefined && Number.isFinite(m) && m > 0) e.expectedCpuNs = Math.round(m);
    }
    this.ages = round.ages;
    this.keys = round.keys;
    this.last = round.policy;
    this.lastRound = round;
    return round.policy;
  }

  private bufferCap(): number {
    return this.p.mode === 'artifact' ? 4 * this.p.maxRecords * this.p.cpus : this.p.maxRecords;
  }

  /** Keep the newest `cap` records (by completion in paper mode, by arrival order in artifact mode). */
  private trim(cap: number): void {
    if (this.buffer.length <= cap) return;
    if (this.p.mode === 'artifact') this.buffer = this.buffer.slice(this.buffer.length - cap);
    else this.buffer = [...this.buffer].sort((a, b) => a.endNs - b.endNs).slice(this.buffer.length - cap);
  }
}

/** A LearnerParams-typed factory for code that only knows the core contract. */
export function createLearner(params: Partial<LearnerParams> = {}): AlpsLearner {
  return new AlpsLearner(params);
}
