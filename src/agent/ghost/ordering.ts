/**
 * What distinguishes the ALPS agent from its baselines: how waiting tasks are ordered and how
 * long a dispatched task is protected from preemption. All three share the agent machinery.
 *
 *  - alps: key (rank, vruntime). rank comes from the learner's Policy (rank 1 first); tasks of
 *    functions absent from the policy and non-function tasks get rank 0, as in the ALPS kernel
 *    (ordinary tasks come first, docs/facts/alps-artifact-algorithm.md §5.4). A strictly
 *    better-ranked waiting task preempts a dispatched one at once; against equal or worse ranks
 *    the task is protected until it has used its learned slice (sliceNs 0: the default slice),
 *    then it yields to any waiting task that orders before it (§5.5).
 *  - cfs: key (0, vruntime), default slice: ghOSt-CFS, the paper's Fig. 15 baseline.
 *  - fifo: key (0, enqueue order), never preempted: ghOSt's centralized FIFO.
 */
import type { FuncId } from '../../core/ids.js';
import type { Ns } from '../../core/time.js';
import { validatePolicy, type Policy, type PolicyEntry } from '../../core/policy.js';
import { InputError } from '../../core/errors.js';

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
  if (kind === 'fifo') {
    return { kind, fair: false, generation: 0, rank: () => 0, sliceNs: () => Infinity, setPolicy: () => undefined };
  }
  if (kind === 'cfs') {
    return { kind, fair: true, generation: 0, rank: () => 0, sliceNs: () => defaultSliceNs, setPolicy: () => undefined };
  }
  return new AlpsOrdering(defaultSliceNs);
}

class AlpsOrdering implements Ordering {
  readonly kind = 'alps' as const;
  readonly fair = true;
  private entries = new Map<FuncId, PolicyEntry>();
  generation = 0;
  constructor(private readonly defaultSliceNs: Ns) {}
  rank(funcId: FuncId): number {
    return this.entries.get(funcId)?.rank ?? 0;
  }
  sliceNs(funcId: FuncId): Ns {
    const s = this.entries.get(funcId)?.sliceNs ?? 0;
    return s > 0 ? s : this.defaultSliceNs;
  }
  setPolicy(policy: Policy): void {
    // Checked whole before anything changes, and swapping the map is atomic for the agent loop:
    // a policy never applies half-way.
    validatePolicy(policy);
    const next = new Map<FuncId, PolicyEntry>();
    for (const e of policy.entries) next.set(e.funcId, e);
    this.entries = next;
    this.generation = policy.generation;
  }
}
