import { InputError } from './errors.js';
import { MAX_FUNC_ID, type FuncId } from './ids.js';
import type { InvocationRecord } from './records.js';
import { NS_PER_S, type Ns } from './time.js';

/** Time-slice model of the learner (ALPS paper §5.2.2, Table 2). */
export type SliceModel = 'avg' | 'linreg' | 'forest' | 'ewma';
export const SLICE_MODELS: readonly SliceModel[] = ['avg', 'linreg', 'forest', 'ewma'];

/** `paper`: the algorithm the ALPS paper describes; `artifact`: the published artifact, exactly. */
export type LearnerMode = 'paper' | 'artifact';
export const LEARNER_MODES: readonly LearnerMode[] = ['paper', 'artifact'];

/**
 * Parameters of the ALPS learner. Defaults come from the ALPS paper (α=2, β=1, γ=1, θ=50,
 * W=5 s, model avg); see src/learner/params.ts for the defaults and validation.
 */
export interface LearnerParams {
  /** Eq. 2: weight of unpredictability (coefficient of variation) in the slice. */
  alpha: number;
  /** Eq. 3: weight of the overload penalty. */
  beta: number;
  /** Eq. 3: exponent of the overload penalty. */
  gamma: number;
  /** Eq. 3: utilisation threshold (percent) above which the overload penalty applies. */
  theta: number;
  /** Sliding window length. */
  windowNs: Ns;
  /** Most records kept in the window (oldest dropped first). */
  maxRecords: number;
  model: SliceModel;
  mode: LearnerMode;
  /** Count blocking time and voluntary switches in the learned signal (I/O study §9). */
  ioAware: boolean;
  /** CPUs the SRPT replay models. */
  cpus: number;
  /** Seed for every random choice the learner makes (artifact sampling, forest). */
  seed: number;
}

/** What one function gets: rank 1 is served first; sliceNs 0 means the kernel's default slice. */
export interface PolicyEntry {
  funcId: FuncId;
  rank: number;
  sliceNs: Ns;
  /**
   * Mean CPU of one invocation over the learner's window, when known: the ALPS rule's escape
   * deadline is arrival + S × this (src/core/alps-rule.ts). Absent = the rule's default.
   */
  expectedCpuNs?: Ns;
}

/**
 * The one value both enforcers consume. Generations increase monotonically; entries are
 * sorted by funcId. Functions absent from `entries` get the kernel's default treatment.
 */
export interface Policy {
  generation: number;
  params: LearnerParams;
  entries: PolicyEntry[];
}

/** Largest rank a policy carries (u32 on the wire and in kernel maps; rank 1 is served first). */
export const MAX_POLICY_RANK = 0xffff_ffff;

/**
 * Largest learned slice: 10 s. A slice is a non-preemptible budget in both enforcers, so a longer
 * one would let one invocation hold a CPU for a whole learning period (the learner's own working
 * cap, `maxSliceNs`, is below it).
 */
export const MAX_POLICY_SLICE_NS: Ns = 10 * NS_PER_S;

/** The bounds a Policy is checked against; callers that differ name their own (see below). */
export interface PolicyLimits {
  /** Most entries (the enforcer's table size). */
  readonly maxEntries: number;
  /** Largest rank. */
  readonly maxRank: number;
  /** Largest sliceNs (0, the kernel's default slice, is always allowed). */
  readonly maxSliceNs: Ns;
  /** When set, the generation must be newer than this one (the generation already installed). */
  readonly afterGeneration?: number;
}

/**
 * What every policy must satisfy: the range the learner emits. Enforcers with a bounded table
 * pass their own `maxEntries` (e.g. the BPF writer's `{ ...POLICY_LIMITS, maxEntries: ALPS_POLICY_MAX }`).
 */
export const POLICY_LIMITS: PolicyLimits = { maxEntries: Number.MAX_SAFE_INTEGER, maxRank: MAX_POLICY_RANK, maxSliceNs: MAX_POLICY_SLICE_NS };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => {
  const s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Checks one rank against the limits; `field` names it in the error. */
export function checkRank(rank: unknown, field: string, limits: PolicyLimits = POLICY_LIMITS): number {
  if (!isInt(rank) || rank < 1 || rank > limits.maxRank) throw new InputError(field, `must be an integer in 1..${limits.maxRank}, got ${shown(rank)}`);
  return rank;
}

/** Checks one slice (ns) against the limits; `field` names it in the error. */
export function checkSliceNs(sliceNs: unknown, field: string, limits: PolicyLimits = POLICY_LIMITS): Ns {
  if (!isInt(sliceNs) || sliceNs < 0 || sliceNs > limits.maxSliceNs) {
    throw new InputError(field, `must be an integer in 0..${limits.maxSliceNs} ns (0 = the kernel's default slice), got ${shown(sliceNs)}`);
  }
  return sliceNs;
}

/**
 * The one policy check every consumer runs before anything is installed (the ghOSt agent's
 * ordering, the BPF map writer, the telemetry client's view of a publisher, `repl --connect`):
 * generation a non-negative integer (newer than `limits.afterGeneration` when set), `params` an
 * object, entries an array of at most `maxEntries` with unique funcIds in 1..MAX_FUNC_ID, ranks in
 * 1..maxRank and slices in 0..maxSliceNs, all integers. Throws an InputError naming the first bad
 * field (under `where`) and the bound it broke; returns normally only if every value is usable.
 * Accepts `unknown`, so a policy parsed from JSON can be checked as it arrives.
 */
export function validatePolicy(policy: unknown, limits: PolicyLimits = POLICY_LIMITS, where = 'policy'): asserts policy is Policy {
  if (!isObj(policy)) throw new InputError(where, `must be a policy object, got ${shown(policy)}`);
  const g = policy['generation'];
  if (!isInt(g) || g < 0) throw new InputError(`${where}.generation`, `must be a non-negative integer, got ${shown(g)}`);
  if (limits.afterGeneration !== undefined && g <= limits.afterGeneration) {
    throw new InputError(`${where}.generation`, `${g} is not newer than the active generation ${limits.afterGeneration}`);
  }
  if (!isObj(policy['params'])) throw new InputError(`${where}.params`, 'must be an object');
  const entries = policy['entries'];
  if (!Array.isArray(entries)) throw new InputError(`${where}.entries`, 'must be an array');
  if (entries.length > limits.maxEntries) {
    throw new InputError(`${where}.entries`, `${entries.length} functions; at most ${limits.maxEntries} fit`);
  }
  const seen = new Set<number>();
  entries.forEach((e: unknown, i) => {
    if (!isObj(e)) throw new InputError(`${where}.entries[${i}]`, `must be an object, got ${shown(e)}`);
    const at = `${where}.entries[${i}] (funcId ${shown(e['funcId'])})`;
    const id = e['funcId'];
    if (!isInt(id) || id < 1 || id > MAX_FUNC_ID) throw new InputError(`${at}.funcId`, `must be an integer in 1..${MAX_FUNC_ID}`);
    if (seen.has(id)) throw new InputError(`${at}.funcId`, 'appears twice');
    seen.add(id);
    checkRank(e['rank'], `${at}.rank`, limits);
    checkSliceNs(e['sliceNs'], `${at}.sliceNs`, limits);
    const x = e['expectedCpuNs'];
    if (x !== undefined && (typeof x !== 'number' || !Number.isFinite(x) || x < 0)) {
      throw new InputError(`${at}.expectedCpuNs`, `must be a finite number of ns ≥ 0 when given, got ${shown(x)}`);
    }
  });
}

/** Fast lookup from funcId to entry. */
export function policyIndex(policy: Policy): Map<FuncId, PolicyEntry> {
  return new Map(policy.entries.map((e) => [e.funcId, e]));
}

/**
 * What enforcers and the simulator need from a learner. The ALPS learner in src/learner
 * implements it; tests may implement it with a fixed policy.
 */
export interface PolicyLearner {
  readonly params: Readonly<LearnerParams>;
  /** The newest policy, or undefined before the first round. */
  readonly current: Policy | undefined;
  /** Feed completed invocations (any order; the window sorts them out). */
  observe(records: readonly InvocationRecord[]): void;
  /** Run one round at time `nowNs` with CPU utilisation `utilisationPct` (0–100). */
  learn(nowNs: Ns, utilisationPct: number): Policy;
  /** Change parameters; takes effect at the next round. Throws InputError on bad values. */
  setParams(patch: Partial<LearnerParams>): void;
}
