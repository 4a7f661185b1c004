import type { FuncId } from '../core/ids.js';
import type { Policy, PolicyEntry } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';
import { NS_PER_MS } from '../core/time.js';
import { artifactReplay, type TickJob } from './artifact-replay.js';
import { penaltyFactor, stack } from './finetune.js';
import type { FunctionStats, LearnRound, RoundContext } from './round.js';
import { basicSlice } from './models.js';
import type { AlpsParams } from './params.js';
import { finishPolicy, safeSlice } from './policy-build.js';
import { Rng } from '../core/prng.js';
import { mean, popStdev } from './stats.js';

/** UID the artifact reserves: always inserted at rank 1 with slice 0 (docs/artifact-algorithm.md §4.3). */
export const ARTIFACT_RESERVED_UID: FuncId = 1;

/**
 * The artifact's window (docs/artifact-algorithm.md §2.2): ids 2, 3, … in record order; a ⌊n / cpus⌋ sample without
 * replacement (seeded, where the artifact used unseeded `random.sample`); sorted by start; the
 * last `maxRecords` (100) kept; start times rebased to 0 in 1 ms ticks. Every job of a function
 * gets the same burst, trunc(cpuTimeScale × that function's mean CPU ms) (the artifact's 0.69 ×
 * profile; ≥ 1 tick so a sub-ms function still terminates in the tick simulator). An empty sample
 * (n < cpus) gives no jobs instead of the artifact's IndexError. The sample draws from the
 * learner's seed, on a stream named after the round's `generation`.
 */
export function artifactWindow(records: readonly InvocationRecord[], p: AlpsParams, generation: number): TickJob[] {
  const n = records.length;
  const k = Math.floor(n / p.cpus);
  if (k === 0) return [];
  const profile = new Map<FuncId, { total: number; count: number }>();
  for (const r of records) {
    const e = profile.get(r.funcId) ?? { total: 0, count: 0 };
    e.total += r.cpuNs / NS_PER_MS;
    e.count++;
    profile.set(r.funcId, e);
  }
  // Partial Fisher–Yates: the first k positions become the sample.
  const idx = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(p.seed, `learner:artifact-sample:${generation}`);
  for (let i = 0; i < k; i++) {
    const j = i + rng.below(n - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const sample = idx.slice(0, k).sort((a, b) => records[a]!.arrivalNs - records[b]!.arrivalNs || a - b);
  const kept = sample.slice(Math.max(0, sample.length - p.maxRecords));
  const t0 = Math.trunc(records[kept[0]!]!.arrivalNs / NS_PER_MS);
  return kept.map((i) => {
    const r = records[i]!;
    const prof = profile.get(r.funcId)!;
    return {
      id: i + 2,
      uid: r.funcId,
      arrival: Math.trunc(r.arrivalNs / NS_PER_MS) - t0,
      burst: Math.max(1, Math.trunc(p.cpuTimeScale * (prof.total / prof.count))),
    };
  });
}

/**
 * Artifact-mode learning from the tick replay's rows (docs/artifact-algorithm.md §4.1–§4.4), in ms as the artifact
 * computes: per class m (mean, or trunc of the model's prediction) and population stdev; order
 * ascending by m (stable, classes in data.csv order) with UID 1 inserted first; then
 * b = min(trunc(α·m), 200), v = max(b − β·s, 0), the compounding monotone cap, p (·β),
 * ts = trunc(v·p). Entries: UID → (UID, ts) when `priorityIsFuncId` (the artifact), else the rank.
 * Every flag of AlpsParams still applies, so each artifact quirk can be switched off one by one.
 */
export function learnFromTickRows(
  rows: ReturnType<typeof artifactReplay>,
  p: AlpsParams,
  previous: Policy | undefined,
  util: number,
): { fresh: PolicyEntry[]; stats: FunctionStats[]; penalty: number } {
  const classes = new Map<FuncId, { ts: number[]; waits: number[]; bursts: number[] }>();
  for (const r of rows) {
    let c = classes.get(r.uid);
    if (!c) {
      c = { ts: [], waits: [], bursts: [] };
      classes.set(r.uid, c);
    }
    c.ts.push(...r.slices);
    c.waits.push(r.wait);
    c.bursts.push(r.burst);
  }
  const stats: FunctionStats[] = [];
  for (const [uid, c] of classes) {
    const raw = basicSlice(p.model, c.ts, { ewmaLambda: p.ewmaLambda, forestTrees: p.forestTrees, seed: p.seed, stream: `forest:${uid}` });
    const m = p.model === 'avg' ? raw : Math.trunc(raw);
    const meanWait = mean(c.waits);
    stats.push({
      funcId: uid,
      invocations: c.waits.length,
      meanCpuNs: mean(c.bursts) * NS_PER_MS,
      meanWaitNs: meanWait * NS_PER_MS,
      meanFirstWaitNs: meanWait * NS_PER_MS,
      meanBlockedNs: 0,
      rankKey: p.rankBy === 'slice' ? m : meanWait,
      slices: c.ts.length,
      basicNs: m * NS_PER_MS,
      stdevNs: popStdev(c.ts) * NS_PER_MS,
      unpredNs: 0,
      rank: 0,
      sliceNs: 0,
    });
  }
  // Stable sort (Array.prototype.sort is stable): ties keep data.csv order, as Python's sorted.
  stats.sort((a, b) => a.rankKey - b.rankKey);
  const order: FuncId[] = stats.map((s) => s.funcId);
  if (!classes.has(ARTIFACT_RESERVED_UID)) order.unshift(ARTIFACT_RESERVED_UID);
  const rankOf = new Map(order.map((uid, i) => [uid, i + 1]));

  const pen = penaltyFactor(util, p);
  const maxMs = p.maxSliceNs / NS_PER_MS;
  const prevIdx = new Map((previous?.entries ?? []).map((e) => [e.funcId, e]));
  const fresh: PolicyEntry[] = [];
  if (!classes.has(ARTIFACT_RESERVED_UID)) fresh.push({ funcId: ARTIFACT_RESERVED_UID, rank: 1, sliceNs: 0 });
  let u = 0;
  let capPre = 0;
  for (const s of stats) {
    const m = s.basicNs / NS_PER_MS;
    const sd = s.stdevNs / NS_PER_MS;
    let v: number;
    if (p.unpredictability) {
      const b = Math.min(Math.trunc(p.alpha * m), maxMs);
      v = b - p.beta * sd > 0 ? b - p.beta * sd : 0;
    } else {
      v = m;
    }
    if (p.monotoneCap === 'compounding') {
      if (u !== 0 && v > u) v = u;
    } else if (p.monotoneCap === 'pre-penalty') {
      if (capPre !== 0 && v > capPre) v = capPre;
      capPre = v;
    }
    let ts = Math.trunc(stack(v, pen, m, p.stacking));
    u = ts;
    const prevMs = (prevIdx.get(s.funcId)?.sliceNs ?? 0) / NS_PER_MS;
    if (p.smoothing > 0 && prevMs > 1) ts = Math.trunc((1 - p.smoothing) * ts + p.smoothing * prevMs);
    s.unpredNs = v * NS_PER_MS;
    s.rank = p.priorityIsFuncId ? s.funcId : rankOf.get(s.funcId)!;
    s.sliceNs = safeSlice(ts * NS_PER_MS, Infinity);
    fresh.push({ funcId: s.funcId, rank: s.rank, sliceNs: s.sliceNs });
  }
  return { fresh, stats, penalty: pen };
}

/** Artifact mode end to end: window → tick SRTF replay (q = quantumNs in ms) → learning. */
export function learnArtifact(records: readonly InvocationRecord[], p: AlpsParams, previous: Policy | undefined, util: number, ctx: RoundContext): LearnRound {
  const generation = (previous?.generation ?? 0) + 1;
  const jobs = artifactWindow(records, p, generation);
  const rows = artifactReplay(jobs, 'srtf', Math.max(1, Math.round(p.quantumNs / NS_PER_MS)));
  const { fresh, stats, penalty } = learnFromTickRows(rows, p, previous, util);
  const { policy, ages } = finishPolicy(fresh, p, previous, ctx.ages, ctx.pins);
  return { policy, functions: stats, penalty, utilisationPct: util, recordsUsed: jobs.length, ages, keys: new Map() };
}
