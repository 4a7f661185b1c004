/**
 * Writes a Policy into the sched_ext scheduler's maps atomically. Every value is validated
 * before any map is touched (InputError naming the entry and field). The new generation goes
 * into the *inactive* half of alps_policy (stale keys of that half deleted, all entries written
 * in one batch); only then is alps_ctl.active_half flipped, so the scheduler reads either the
 * complete old table or the complete new one, never a mix.
 */
import { InputError } from '../../core/errors.js';
import { POLICY_LIMITS, validatePolicy, type Policy, type PolicyLimits } from '../../core/policy.js';
import {
  type BpfMap,
  ALPS_MAX_RANK,
  ALPS_POLICY_MAX,
  POLICY_ENTRY_BYTES,
  decodeCtl,
  encodeCtl,
  encodePolicyEntry,
  policyKey,
  u32Key,
} from '../../native/bpf.js';

/** The map operations the writer needs (real BpfMaps, or fakes in tests). */
export type PolicyMap = Pick<BpfMap, 'keys' | 'delete' | 'updateBatch'>;
export type CtlMap = Pick<BpfMap, 'lookup' | 'update'>;

/** The kernel's policy table holds ALPS_POLICY_MAX functions; every other bound is the common one. */
export const KERNEL_POLICY_LIMITS: PolicyLimits = { ...POLICY_LIMITS, maxEntries: ALPS_POLICY_MAX };

/**
 * Kernel ranks: the learner's ranks compressed to 1..k preserving their order (equal ranks stay
 * equal), so that any u32 rank fits the 14 rank bits of the scheduler's DSQ key. Only the
 * order of ranks matters to the scheduler.
 */
export function denseRanks(ranks: readonly number[]): Map<number, number> {
  const distinct = [...new Set(ranks)].sort((a, b) => a - b);
  const m = new Map<number, number>();
  distinct.forEach((r, i) => m.set(r, i + 1));
  if (distinct.length > ALPS_MAX_RANK) throw new InputError('policy.entries', `${distinct.length} distinct ranks; the kernel orders at most ${ALPS_MAX_RANK}`);
  return m;
}

export interface WriteResult {
  generation: number;
  half: number;
  entries: number;
}

export class PolicyWriter {
  constructor(
    private readonly policyMap: PolicyMap,
    private readonly ctlMap: CtlMap,
  ) {}

  /** The control word as the kernel sees it now. */
  ctl(): ReturnType<typeof decodeCtl> {
    const b = this.ctlMap.lookup(u32Key(0));
    if (!b) throw new Error('alps_ctl has no element 0');
    return decodeCtl(b);
  }

  write(policy: Policy): WriteResult {
    const cur = this.ctl();
    validatePolicy(policy, cur.generation > 0 ? { ...KERNEL_POLICY_LIMITS, afterGeneration: cur.generation } : KERNEL_POLICY_LIMITS);
    const half = cur.activeHalf === 0 ? 1 : 0;
    // 1. clear the inactive half's leftovers (from two generations ago)
    const wanted = new Set(policy.entries.map((e) => e.funcId));
    for (const k of this.policyMap.keys()) {
      if (k.readUInt32LE(4) === half && !wanted.has(k.readUInt32LE(0))) this.policyMap.delete(k);
    }
    // 2. the whole new table in one batch
    const n = policy.entries.length;
    if (n > 0) {
      const dense = denseRanks(policy.entries.map((e) => e.rank));
      const keys = Buffer.alloc(8 * n);
      const vals = Buffer.alloc(POLICY_ENTRY_BYTES * n);
      policy.entries.forEach((e, i) => {
        policyKey(half, e.funcId).copy(keys, 8 * i);
        encodePolicyEntry({ rank: dense.get(e.rank) ?? ALPS_MAX_RANK, sliceNs: e.sliceNs, expectedCpuNs: e.expectedCpuNs ?? 0 }).copy(vals, POLICY_ENTRY_BYTES * i);
      });
      this.policyMap.updateBatch(keys, vals, n);
    }
    // 3. flip: from here on the scheduler reads the new half
    this.ctlMap.update(u32Key(0), encodeCtl({ ...cur, activeHalf: half, generation: policy.generation, functions: n }));
    return { generation: policy.generation, half, entries: n };
  }
}
