import type { FuncId } from '../core/ids.js';
import type { Policy, PolicyEntry } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import { MAX_RANK, SLICE_LIMIT_NS, type AlpsParams } from './params.js';

/** A fixed rank and/or slice for one function, set by an operator (REPL, telemetry). */
export interface Pin {
  rank?: number;
  sliceNs?: Ns;
}

/** Rounds since each function was last in a window (0 = this round). */
export type Ages = ReadonlyMap<FuncId, number>;

/** A slice value made safe to emit: finite, non-negative, integer ns, at most `maxNs`. */
export function safeSlice(ns: number, maxNs: Ns): Ns {
  if (!Number.isFinite(ns) || ns <= 0) return 0;
  // Whole ns, truncated; the 1e-6 keeps float noise (0.6 × 24e6 = 14399999.999…) from costing 1 ns.
  return Math.floor(Math.min(ns, maxNs, SLICE_LIMIT_NS) + 1e-6);
}

/** A rank made safe to emit: an integer in [1, MAX_RANK]. */
export function safeRank(rank: number): number {
  if (!Number.isFinite(rank) || rank < 1) return 1;
  return Math.min(Math.floor(rank), MAX_RANK);
}

/**
 * Completes a round's entries: carries the previous policy's entries for functions absent from
 * this window while they are younger than `expireRounds` (with the rank `carriedRanks` gives them
 * in this round's order, when given; else their old rank), applies pins, sorts by funcId, and
 * numbers the generation one past the previous one.
 */
export function finishPolicy(
  fresh: PolicyEntry[],
  params: AlpsParams,
  previous: Policy | undefined,
  ages: Ages | undefined,
  pins: ReadonlyMap<FuncId, Pin> | undefined,
  carriedRanks?: ReadonlyMap<FuncId, number>,
): { policy: Policy; ages: Map<FuncId, number> } {
  const byId = new Map<FuncId, PolicyEntry>();
  const nextAges = new Map<FuncId, number>();
  for (const e of fresh) {
    byId.set(e.funcId, { funcId: e.funcId, rank: safeRank(e.rank), sliceNs: safeSlice(e.sliceNs, SLICE_LIMIT_NS) });
    nextAges.set(e.funcId, 0);
  }
  for (const e of previous?.entries ?? []) {
    if (byId.has(e.funcId)) continue;
    const age = (ages?.get(e.funcId) ?? 0) + 1;
    if (age > params.expireRounds) continue;
    const rank = carriedRanks?.get(e.funcId);
    byId.set(e.funcId, rank === undefined ? { ...e } : { ...e, rank: safeRank(rank) });
    nextAges.set(e.funcId, age);
  }
  if (pins && pins.size > 0) {
    let maxRank = 0;
    for (const e of byId.values()) maxRank = Math.max(maxRank, e.rank);
    for (const [funcId, pin] of pins) {
      const old = byId.get(funcId);
      byId.set(funcId, {
        funcId,
        rank: safeRank(pin.rank ?? old?.rank ?? maxRank + 1),
        sliceNs: safeSlice(pin.sliceNs ?? old?.sliceNs ?? 0, SLICE_LIMIT_NS),
      });
      if (!nextAges.has(funcId)) nextAges.set(funcId, 0);
    }
  }
  const entries = [...byId.values()].sort((a, b) => a.funcId - b.funcId);
  return { policy: { generation: (previous?.generation ?? 0) + 1, params: { ...params }, entries }, ages: nextAges };
}
