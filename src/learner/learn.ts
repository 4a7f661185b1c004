import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import type { Policy, PolicyEntry } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';
import { NS_PER_MS } from '../core/time.js';
import { learnArtifact } from './artifact.js';
import { penaltyFactor, stack, unpredictable } from './finetune.js';
import { basicSlice } from './models.js';
import { resolveParams, type AlpsParams } from './params.js';
import { finishPolicy, safeSlice } from './policy-build.js';
import { srptReplay, type ReplayJob, type ReplayOutcome } from './replay.js';
import type { FunctionStats, LearnRound, RankKey, RoundContext } from './round.js';
import { popStdev } from './stats.js';

/** Utilisation made safe: a finite percentage, clamped to [0, 100]. */
export function checkUtilisation(u: number): number {
  if (typeof u !== 'number' || Number.isNaN(u) || u < 0 || u === Infinity) {
    throw new InputError('utilisationPct', `must be a percentage in [0, 100], got ${u}`);
  }
  return Math.min(100, u);
}

function checkRecords(records: readonly InvocationRecord[]): void {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const ok =
      Number.isInteger(r.funcId) && r.funcId > 0 && Number.isSafeInteger(r.arrivalNs) && r.arrivalNs >= 0 &&
      Number.isFinite(r.endNs) && r.endNs >= r.arrivalNs && Number.isFinite(r.cpuNs) && r.cpuNs >= 0;
    if (!ok) throw new InputError(`record ${i}`, `needs funcId > 0, integer arrivalNs ≥ 0, endNs ≥ arrivalNs and cpuNs ≥ 0 (got ${JSON.stringify(r)})`);
  }
}

interface Acc {
  funcId: FuncId;
  name?: string;
  n: number;
  cpu: number;
  wait: number;
  firstWait: number;
  blocked: number;
  starts: number[];
  lens: number[];
}

/**
 * One learning round, paper mode (docs/artifact-algorithm.md §4.7 with the paper's Eq. 1–3):
 * replay the window under multi-CPU SRPT → per function: mean total wait (rank), slice series
 * (model) → Eq. 2 → optional monotone cap → Eq. 3 → optional smoothing → cap.
 */
function learnPaper(records: readonly InvocationRecord[], p: AlpsParams, previous: Policy | undefined, util: number, ctx: RoundContext): LearnRound {
  let rs = records;
  if (rs.length > p.maxRecords) rs = [...rs].sort((a, b) => a.endNs - b.endNs).slice(rs.length - p.maxRecords);
  const jobs: ReplayJob[] = rs.map((r) => ({
    funcId: r.funcId,
    arrivalNs: r.arrivalNs,
    burstNs: Math.round(r.cpuNs * p.cpuTimeScale),
    keyBiasNs: p.ioAware ? (r.blockedNs ?? 0) : 0,
  }));
  const { outcomes } = srptReplay(jobs, { cpus: p.cpus, quantumNs: p.quantumNs });
  return learnFromReplay(rs, outcomes, p, previous, util, ctx);
}

/**
 * Paper-mode learning from a replay's outcomes (`outcomes[i]` belongs to `rs[i]`): everything of a
 * round after the replay. Exported for the benchmark, which times it apart from the replay as the
 * paper's Table 2 does.
 */
export function learnFromReplay(
  rs: readonly InvocationRecord[],
  outcomes: readonly ReplayOutcome[],
  p: AlpsParams,
  previous: Policy | undefined,
  util: number,
  ctx: RoundContext,
): LearnRound {
  const accs = new Map<FuncId, Acc>();
  const from = ctx.windowStartNs ?? -Infinity;
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    // Replay context only (see RoundContext.windowStartNs): its wait and slices are not evidence.
    if (r.arrivalNs < from) continue;
    const o = outcomes[i]!;
    let a = accs.get(r.funcId);
    if (!a) {
      a = { funcId: r.funcId, n: 0, cpu: 0, wait: 0, firstWait: 0, blocked: 0, starts: [], lens: [] };
      accs.set(r.funcId, a);
    }
    if (a.name === undefined && r.name !== undefined) a.name = r.name;
    a.n++;
    a.cpu += r.cpuNs;
    a.wait += o.waitNs;
    a.firstWait += o.firstWaitNs;
    a.blocked += r.blockedNs ?? 0;
    // I/O-aware: a run can last no longer than the CPU burst between two voluntary switches, so
    // replay slices longer than that are cut into bursts (the function would block anyway).
    const burstCap = p.ioAware && (r.voluntarySwitches ?? 0) > 0 ? Math.max(1, r.cpuNs / (r.voluntarySwitches! + 1)) : Infinity;
    for (let k = 0; k < o.slicesNs.length; k++) {
      let len = o.slicesNs[k]!;
      let start = o.sliceStartsNs[k]!;
      while (len > burstCap) {
        a.starts.push(start);
        a.lens.push(burstCap);
        start += burstCap;
        len -= burstCap;
      }
      a.starts.push(start);
      a.lens.push(len);
    }
  }

  const stats: FunctionStats[] = [];
  for (const a of accs.values()) {
    // Series in time order (slice start), so linreg/ewma/forest see the history as it happened.
    const order = a.starts.map((_, i) => i).sort((x, y) => a.starts[x]! - a.starts[y]! || x - y);
    const ys = new Float64Array(order.length);
    for (let i = 0; i < order.length; i++) ys[i] = a.lens[order[i]!]!;
    const basic = Math.max(0, basicSlice(p.model, ys, { ewmaLambda: p.ewmaLambda, forestTrees: p.forestTrees, seed: p.seed, stream: `forest:${a.funcId}` }));
    const meanWait = a.wait / a.n;
    const meanFirst = a.firstWait / a.n;
    const meanBlocked = a.blocked / a.n;
    // Rank key: the paper's mean (total) wait; I/O-aware adds the mean blocked time, so a function
    // that sleeps most of its life ranks by how long it lives, not by its tiny CPU bursts.
    const meanCpu = a.cpu / a.n;
    const rankKey =
      p.rankBy === 'slice'
        ? basic
        : (p.rankBy === 'first-wait' ? meanFirst : meanWait) + (p.rankBy === 'turnaround' ? meanCpu : 0) + (p.ioAware ? meanBlocked : 0);
    const s: FunctionStats = {
      funcId: a.funcId,
      invocations: a.n,
      meanCpuNs: meanCpu,
      meanWaitNs: meanWait,
      meanFirstWaitNs: meanFirst,
      meanBlockedNs: meanBlocked,
      rankKey,
      slices: ys.length,
      basicNs: basic,
      stdevNs: popStdev(ys),
      unpredNs: 0,
      rank: 0,
      sliceNs: 0,
    };
    if (a.name !== undefined) s.name = a.name;
    stats.push(s);
  }
  const keys = new Map<FuncId, RankKey>();
  for (const s of stats) keys.set(s.funcId, { primary: s.rankKey, cpu: s.meanCpuNs });
  const cmp = (x: RankKey, y: RankKey): number => compareKeys(x, y, p.rankClassRatio);
  // Functions absent from this window but still carried (finishPolicy's expiry rule) are placed in
  // this round's order by the key they were last seen with. Keeping their old rank number instead
  // would mix two numberings: a long function last ranked 27 of 38 would tie with whatever this
  // round ranks 27th, however short.
  const carried: { funcId: FuncId; key: RankKey }[] = [];
  for (const e of previous?.entries ?? []) {
    if (keys.has(e.funcId)) continue;
    const k = ctx.keys?.get(e.funcId);
    if (!k || (ctx.ages?.get(e.funcId) ?? 0) + 1 > p.expireRounds) continue;
    carried.push({ funcId: e.funcId, key: k });
    keys.set(e.funcId, k);
  }
  // Within a class, list by the exact key (for tables); the rank is the class's.
  const exact = (x: RankKey, y: RankKey): number => cmp(x, y) || compareKeys(x, y, 1);
  stats.sort((x, y) => exact(keys.get(x.funcId)!, keys.get(y.funcId)!) || x.funcId - y.funcId);
  const order = [...stats.map((s) => ({ funcId: s.funcId, key: keys.get(s.funcId)! })), ...carried];
  order.sort((x, y) => exact(x.key, y.key) || x.funcId - y.funcId);
  const rankOf = new Map<FuncId, number>();
  let rank = 0;
  let last: RankKey | undefined;
  for (const o of order) {
    // Dense ranks over the classes (rankClassRatio > 1) or over (key, mean CPU): functions of one
    // class share a rank and the enforcers break the tie by vruntime (§5.3).
    if (!last || cmp(o.key, last) !== 0) rank++;
    last = o.key;
    rankOf.set(o.funcId, rank);
  }
  const carriedRanks = new Map(carried.map((c) => [c.funcId, rankOf.get(c.funcId)!]));

  const pen = penaltyFactor(util, p);
  const prevIdx = new Map((previous?.entries ?? []).map((e) => [e.funcId, e]));
  let capPre = 0;
  let capFinal = 0;
  const fresh: PolicyEntry[] = [];
  for (const s of stats) {
    let tsU = unpredictable(s.basicNs, s.stdevNs, p);
    if (p.monotoneCap === 'pre-penalty') {
      if (capPre > 0 && tsU > capPre) tsU = capPre;
      capPre = tsU;
    } else if (p.monotoneCap === 'compounding') {
      if (capFinal > 0 && tsU > capFinal) tsU = capFinal;
    }
    let ts = stack(tsU, pen, s.basicNs, p.stacking);
    capFinal = ts;
    const prevSlice = prevIdx.get(s.funcId)?.sliceNs ?? 0;
    if (p.smoothing > 0 && prevSlice > 0) ts = (1 - p.smoothing) * ts + p.smoothing * prevSlice;
    s.unpredNs = tsU;
    s.rank = p.priorityIsFuncId ? s.funcId : rankOf.get(s.funcId)!;
    s.sliceNs = safeSlice(ts, p.maxSliceNs);
    fresh.push({ funcId: s.funcId, rank: s.rank, sliceNs: s.sliceNs });
  }
  const { policy, ages } = finishPolicy(fresh, p, previous, ctx.ages, ctx.pins, p.priorityIsFuncId ? undefined : carriedRanks);
  for (const k of [...keys.keys()]) if (!ages.has(k)) keys.delete(k);
  return { policy, functions: stats, penalty: pen, utilisationPct: util, recordsUsed: rs.length, ages, keys };
}

/** Unit of the geometric rank classes: statistics below 1 ms all fall in class 0. */
const CLASS_UNIT_NS = NS_PER_MS;

/** Geometric class of a rank statistic: ⌊log_r(max(v, u) / u)⌋. */
export function rankClass(v: number, ratio: number): number {
  return Math.floor(Math.log(Math.max(v, CLASS_UNIT_NS) / CLASS_UNIT_NS) / Math.log(ratio) + 1e-9);
}

/**
 * Order of two rank keys. With classes (ratio > 1): by class only (equal = one rank). Without:
 * by the statistic, then by mean CPU time — SRPT's own order: on a machine with several CPUs the
 * replay's waits saturate at 0 for every function short enough to preempt somebody on arrival,
 * and a rank on the wait alone would tie a 14 ms and a 40 ms function.
 */
function compareKeys(a: RankKey, b: RankKey, ratio: number): number {
  if (ratio > 1) return rankClass(a.primary, ratio) - rankClass(b.primary, ratio);
  return a.primary - b.primary || a.cpu - b.cpu;
}

/**
 * One learning round on `records` (the window, already chosen by the caller) with CPU
 * utilisation `utilisationPct`; `previous` feeds smoothing, carry-over and the generation.
 */
export function learnRound(
  records: readonly InvocationRecord[],
  params: Partial<AlpsParams>,
  previous: Policy | undefined,
  utilisationPct: number,
  ctx: RoundContext = {},
): LearnRound {
  const p = resolveParams(params);
  const util = checkUtilisation(utilisationPct);
  checkRecords(records);
  return p.mode === 'artifact' ? learnArtifact(records, p, previous, util, ctx) : learnPaper(records, p, previous, util, ctx);
}

/** Pure: the Policy one learning round produces (see learnRound). */
export function learnPolicy(
  records: readonly InvocationRecord[],
  params: Partial<AlpsParams>,
  previous: Policy | undefined,
  utilisationPct: number,
): Policy {
  return learnRound(records, params, previous, utilisationPct).policy;
}

/** ns → ms for tables. */
export const ms = (ns: number): number => ns / NS_PER_MS;
