/**
 * Writes a Policy into the sched_ext scheduler's maps atomically. Every value is validated
 * before any map is touched (InputError naming the entry and field). The new generation goes
 * into the *inactive* half of alps_policy (stale keys of that half deleted, all entries written
 * in one batch); only then is alps_ctl.active_half flipped, so the scheduler reads either the
 * complete old table or the complete new one, never a mix.
 */
import { InputError } from '../../core/errors.js';
import { MAX_FUNC_ID } from '../../core/ids.js';
import type { Policy } from '../../core/policy.js';
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

/** Largest learned slice accepted: the learner's own cap (src/learner/params.ts, 10 s). */
export const MAX_SLICE_NS = 10_000_000_000;
/** Learner ranks are u32 (rank 1 first). */
export const MAX_POLICY_RANK = 0xffff_ffff;

/** The map operations the writer needs (real BpfMaps, or fakes in tests). */
export type PolicyMap = Pick<BpfMap, 'keys' | 'delete' | 'updateBatch'>;
export type CtlMap = Pick<BpfMap, 'lookup' | 'update'>;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Throws InputError for the first bad value; returns nothing if every value is writable. */
export function validatePolicy(policy: Policy, lastGeneration?: number): void {
  if (!isInt(policy.generation) || policy.generation < 0) {
    throw new InputError('policy.generation', `must be a non-negative integer, got ${String(policy.generation)}`);
  }
  if (lastGeneration !== undefined && policy.generation <= lastGeneration) {
    throw new InputError('policy.generation', `${policy.generation} is not newer than the active generation ${lastGeneration}`);
  }
  if (!Array.isArray(policy.entries)) throw new InputError('policy.entries', 'must be an array');
  if (policy.entries.length > ALPS_POLICY_MAX) {
    throw new InputError('policy.entries', `${policy.entries.length} functions; the kernel table holds ${ALPS_POLICY_MAX}`);
  }
  const seen = new Set<number>();
  policy.entries.forEach((e, i) => {
    const where = `policy.entries[${i}] (funcId ${String(e.funcId)})`;
    if (!isInt(e.funcId) || e.funcId < 1 || e.funcId > MAX_FUNC_ID) throw new InputError(`${where}.funcId`, `must be an integer in 1..${MAX_FUNC_ID}`);
    if (seen.has(e.funcId)) throw new InputError(`${where}.funcId`, 'appears twice');
    seen.add(e.funcId);
    if (!isInt(e.rank) || e.rank < 1 || e.rank > MAX_POLICY_RANK) {
      throw new InputError(`${where}.rank`, `must be an integer in 1..${MAX_POLICY_RANK}, got ${String(e.rank)}`);
    }
    if (!isInt(e.sliceNs) || e.sliceNs < 0 || e.sliceNs > MAX_SLICE_NS) {
      throw new InputError(`${where}.sliceNs`, `must be an integer in 0..${MAX_SLICE_NS} ns, got ${String(e.sliceNs)}`);
    }
  });
}

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
    validatePolicy(policy, cur.generation > 0 ? cur.generation : undefined);
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
        encodePolicyEntry({ rank: dense.get(e.rank) ?? ALPS_MAX_RANK, sliceNs: e.sliceNs }).copy(vals, POLICY_ENTRY_BYTES * i);
      });
      this.policyMap.updateBatch(keys, vals, n);
    }
    // 3. flip: from here on the scheduler reads the new half
    this.ctlMap.update(u32Key(0), encodeCtl({ ...cur, activeHalf: half, generation: policy.generation }));
    return { generation: policy.generation, half, entries: n };
  }
}
