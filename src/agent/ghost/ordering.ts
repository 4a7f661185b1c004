/**
 * What distinguishes the ALPS agent from its baselines: how waiting tasks are ordered and how
 * long a dispatched task is protected from preemption. All three share the agent machinery,
 * whose runqueue orders by (level, key).
 *
 *  - alps: the ALPS rule of src/core/alps-rule.ts. level = the rule's level (overdue, encoded
 *    below 0 with its degree and rank; ordinary — non-function tasks (funcId 0) — below all;
 *    1 + rank, a function the policy does not know at UNKNOWN_FUNCTION_RANK); key = escape deadline (overdue), vruntime (ordinary) or
 *    arrival (ranked). A strictly lower level preempts a dispatched task at once; otherwise it
 *    is protected until it has used its learned slice (sliceNs 0: the default slice), then
 *    yields to any waiting task that orders before it.
 *  - cfs: key (0, vruntime), default slice: ghOSt-CFS, the paper's Fig. 15 baseline.
 *  - fifo: key (0, enqueue order), never preempted: ghOSt's centralized FIFO.
 */
import type { FuncId } from '../../core/ids.js';
import type { Ns } from '../../core/time.js';
import { validatePolicy, type Policy, type PolicyEntry } from '../../core/policy.js';
import { InputError } from '../../core/errors.js';
import { ALPS_MAX_RANK, escapeDeadlineNs, functionRank, LEVEL_ORDINARY, LEVEL_OVERDUE, levelOf, MAX_OVERDUE_DEGREE, overdueDegree } from '../../core/alps-rule.js';

export type AgentPolicyKind = 'alps' | 'fifo' | 'cfs';
export const AGENT_POLICY_KINDS: readonly AgentPolicyKind[] = ['alps', 'fifo', 'cfs'];

/** CFS's base slice on a 8-CPU host (sched_base_slice 3 ms). */
export const DEFAULT_SLICE_NS: Ns = 3_000_000;

export interface Ordering {
  readonly kind: AgentPolicyKind;
  /** Rank of a task of function `funcId` (lower first). */
  rank(funcId: FuncId): number;
  /** Protected run time of a dispatched task of `funcId`; Infinity = never preempted. */
  sliceNs(funcId: FuncId): Ns;
  /** Whether the secondary key is vruntime (true) or enqueue order (false). */
  readonly fair: boolean;
  /** Escape deadline of an invocation of `funcId` that arrived at `arrivalNs` (Infinity: none). */
  deadlineNs(funcId: FuncId, arrivalNs: Ns): Ns;
  /**
   * Runqueue position (level, key) of a task at `nowNs`; `fairKey` is its vruntime (or its FIFO
   * sequence for fifo).
   */
  position(funcId: FuncId, arrivalNs: Ns, fairKey: number, nowNs: Ns): { level: number; key: number };
  /**
   * position() without allocating, for the agent's hot path: returns the level and leaves the key
   * in `posKey` and deadlineNs(funcId, arrivalNs) in `posDeadlineNs` (read them before the next call).
   */
  positionInto(funcId: FuncId, arrivalNs: Ns, fairKey: number, nowNs: Ns): number;
  readonly posKey: number;
  readonly posDeadlineNs: number;
  /** Installs a new policy (ALPS only; others ignore it). */
  setPolicy(policy: Policy): void;
  readonly generation: number;
}

export function parsePolicyKind(value: string, flag = '--policy'): AgentPolicyKind {
  if ((AGENT_POLICY_KINDS as readonly string[]).includes(value)) return value as AgentPolicyKind;
  throw new InputError(flag, `'${value}' is not one of ${AGENT_POLICY_KINDS.join(', ')}`);
}

export function makeOrdering(kind: AgentPolicyKind, defaultSliceNs: Ns = DEFAULT_SLICE_NS): Ordering {
  if (!(defaultSliceNs > 0)) throw new InputError('defaultSliceNs', `must be > 0 (got ${defaultSliceNs})`);
  if (kind === 'fifo') return new FlatOrdering('fifo', false, Infinity);
  if (kind === 'cfs') return new FlatOrdering('cfs', true, defaultSliceNs);
  return new AlpsOrdering(defaultSliceNs);
}

/**
 * Runqueue levels of the ALPS ordering (the runqueue orders by (level, key), lower first):
 * ordinary work at ORDINARY_QUEUE_LEVEL, below every overdue position; overdue tasks in
 * (ORDINARY_QUEUE_LEVEL, 0), in the rule's order within the level (higher degree, then rank;
 * the key is the deadline); ranked tasks at their rule level 1 + rank ≥ 2.
 */
const OVERDUE_BASE = -((MAX_OVERDUE_DEGREE + 2) * (ALPS_MAX_RANK + 1));
const ORDINARY_QUEUE_LEVEL = 2 * OVERDUE_BASE;

/** The ALPS rule's level of a runqueue level. */
export function ruleLevel(queueLevel: number): number {
  if (queueLevel === ORDINARY_QUEUE_LEVEL) return LEVEL_ORDINARY;
  return queueLevel < 0 ? LEVEL_OVERDUE : queueLevel;
}

/** fifo and cfs: one level, keyed by the fair key (vruntime, or the enqueue sequence). */
class FlatOrdering implements Ordering {
  readonly generation = 0;
  posKey = 0;
  readonly posDeadlineNs = Infinity;
  constructor(
    readonly kind: AgentPolicyKind,
    readonly fair: boolean,
    private readonly slice: Ns,
  ) {}
  rank(): number {
    return 0;
  }
  sliceNs(): Ns {
    return this.slice;
  }
  deadlineNs(): Ns {
    return Infinity;
  }
  position(_f: FuncId, _a: Ns, fairKey: number): { level: number; key: number } {
    return { level: 0, key: fairKey };
  }
  positionInto(_f: FuncId, _a: Ns, fairKey: number): number {
    this.posKey = fairKey;
    return 0;
  }
  setPolicy(): void {}
}

class AlpsOrdering implements Ordering {
  readonly kind = 'alps' as const;
  readonly fair = true;
  private entries = new Map<FuncId, PolicyEntry>();
  /** The same entries indexed by funcId when every id is a small integer (the agent's hot path
   *  looks one up per enqueue and dispatch; an array index is cheaper than a Map lookup). */
  private byId: (PolicyEntry | undefined)[] = [];
  generation = 0;
  constructor(private readonly defaultSliceNs: Ns) {}
  private entry(funcId: FuncId): PolicyEntry | undefined {
    return funcId >= 0 && funcId < this.byId.length ? this.byId[funcId] : this.entries.get(funcId);
  }
  rank(funcId: FuncId): number {
    return functionRank(funcId, this.entry(funcId)?.rank, this.entries.size);
  }
  sliceNs(funcId: FuncId): Ns {
    const s = this.entry(funcId)?.sliceNs ?? 0;
    return s > 0 ? s : this.defaultSliceNs;
  }
  deadlineNs(funcId: FuncId, arrivalNs: Ns): Ns {
    return functionRank(funcId, this.entry(funcId)?.rank, this.entries.size) > 0 ? escapeDeadlineNs(arrivalNs, this.entry(funcId)?.expectedCpuNs) : Infinity;
  }
  position(funcId: FuncId, arrivalNs: Ns, fairKey: number, nowNs: Ns): { level: number; key: number } {
    const level = this.positionInto(funcId, arrivalNs, fairKey, nowNs);
    return { level, key: this.posKey };
  }
  posKey = 0;
  posDeadlineNs = Infinity;
  positionInto(funcId: FuncId, arrivalNs: Ns, fairKey: number, nowNs: Ns): number {
    // One policy lookup for rank and deadline (deadlineNs and rank above, inlined).
    const e = this.entry(funcId);
    const rank = functionRank(funcId, e?.rank, this.entries.size);
    const d = rank > 0 ? escapeDeadlineNs(arrivalNs, e?.expectedCpuNs) : Infinity;
    this.posDeadlineNs = d;
    const level = levelOf(rank, d, nowNs);
    if (level === LEVEL_OVERDUE) {
      // Between ordinary and ranked work, in the rule's order (higher degree, then rank, then
      // deadline). ruleLevel() maps these positions back to LEVEL_OVERDUE.
      const degree = overdueDegree(arrivalNs, d, nowNs);
      this.posKey = d;
      return OVERDUE_BASE - degree * (ALPS_MAX_RANK + 1) + Math.min(rank, ALPS_MAX_RANK);
    }
    if (level === LEVEL_ORDINARY) {
      this.posKey = fairKey;
      return ORDINARY_QUEUE_LEVEL;
    }
    this.posKey = arrivalNs;
    return level;
  }
  setPolicy(policy: Policy): void {
    // Checked whole before anything changes, and swapping the map is atomic for the agent loop:
    // a policy never applies half-way.
    validatePolicy(policy);
    const next = new Map<FuncId, PolicyEntry>();
    for (const e of policy.entries) next.set(e.funcId, e);
    let max = -1;
    for (const id of next.keys()) max = Number.isInteger(id) && id >= 0 && id < 65536 && max >= -1 ? Math.max(max, id) : -2;
    const byId: (PolicyEntry | undefined)[] = [];
    // Holes would make the array dictionary-backed: fill every index up to the largest id.
    for (let i = 0; i <= max; i++) byId.push(next.get(i));
    this.entries = next;
    this.byId = byId;
    this.generation = policy.generation;
  }
}
