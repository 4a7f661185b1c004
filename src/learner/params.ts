import { InputError } from '../core/errors.js';
import { LEARNER_MODES, MAX_POLICY_RANK, MAX_POLICY_SLICE_NS, SLICE_MODELS, type LearnerMode, type LearnerParams } from '../core/policy.js';
import { NS_PER_MS, NS_PER_S, type Ns } from '../core/time.js';

/** Hard ceiling on any slice the learner emits, whatever the parameters say: the policy bound (10 s). */
export const SLICE_LIMIT_NS: Ns = MAX_POLICY_SLICE_NS;
/** Largest rank we emit: the policy bound (u32 on the wire). */
export const MAX_RANK = MAX_POLICY_RANK;

/**
 * What a function's rank is sorted by: `wait` (paper §5.2.1: mean total wait in the SRPT replay),
 * `turnaround` (that wait plus the function's mean CPU time, i.e. its mean response time in the
 * replay — our default, see docs/learner.md), `first-wait`, or `slice` (the artifact: mean slice).
 */
export type RankBy = 'wait' | 'turnaround' | 'first-wait' | 'slice';
export const RANK_BYS: readonly RankBy[] = ['wait', 'turnaround', 'first-wait', 'slice'];
/**
 * How the overload factor p meets the unpredictability slice ts_u (paper §5.2.2 contradicts itself):
 * - `clip`: ts_s = min(p, 1)·ts_u (our choice: keeps α's reward, still only ever shrinks under load);
 * - `min-basic`: the literal text, ts_s = min(p·ts_u, ts_b) with ts_b the basic slice (cancels α > 1);
 * - `raw`: ts_s = p·ts_u (the artifact; p may exceed 1 when γ < 1).
 */
export type Stacking = 'clip' | 'min-basic' | 'raw';
/**
 * Monotone cap along the rank order (artifact only, not in the paper):
 * - `off`: none (paper);
 * - `pre-penalty`: a later class's slice never exceeds the previous class's pre-penalty slice;
 * - `compounding`: the artifact's version, comparing against the previous class's *final* value,
 *   so p compounds as p^j along the order (docs/artifact-algorithm.md §4.4).
 */
export type MonotoneCap = 'off' | 'pre-penalty' | 'compounding';

/**
 * The ALPS learner's parameters: the shared `LearnerParams` plus the knobs that select between the
 * paper's and the artifact's behaviour where they differ. A superset of LearnerParams, so it can be
 * stored in `Policy.params` and passed wherever LearnerParams is expected.
 */
export interface AlpsParams extends LearnerParams {
  /** SRPT replay minimum run quantum: a dispatched job runs at least this long before preemption. */
  quantumNs: Ns;
  /** Working slice cap (applied last in paper mode; before the stdev term in artifact mode). */
  maxSliceNs: Ns;
  rankBy: RankBy;
  /**
   * Rank classes (paper §5.2: the ordering policy predicts function *groups*): functions whose rank
   * statistic falls in the same geometric bucket [u·rᵏ, u·rᵏ⁺¹) (u = 1 ms, r = this ratio) share
   * a rank, so the enforcer serves them by vruntime (CFS) among themselves — "for long functions,
   * ALPS reuses CFS to avoid starvation" — while the learned slice still lets short ones finish.
   * 1 = off: every distinct (statistic, mean CPU) gets its own rank.
   */
  rankClassRatio: number;
  stacking: Stacking;
  monotoneCap: MonotoneCap;
  /** Weight of the previous policy's slice: final = (1 − w)·new + w·previous. 0 = off (paper). */
  smoothing: number;
  /** Artifact Eq. 3 variant: p multiplied by β. */
  betaInPenalty: boolean;
  /** Artifact: the priority sent is the function id itself, not the learned rank. */
  priorityIsFuncId: boolean;
  /** EWMA smoothing constant λ (separate from α; the artifact's 0.2). */
  ewmaLambda: number;
  /** Trees in the `forest` model (the artifact's 10). */
  forestTrees: number;
  /** Replay burst = cpuTimeScale × CPU time (the artifact's unexplained 0.69; 1 in paper mode). */
  cpuTimeScale: number;
  /**
   * Rounds an entry survives after its function leaves the window (Infinity = forever, artifact).
   * Dropping an entry is not neutral: the enforcers serve a function without one behind every
   * learned rank, with the default E[CPU] (src/core/alps-rule.ts). Paper mode keeps 12 rounds
   * (1 min at W = 5 s): a rare long function (1 % of a Huawei-mix host's invocations) is often
   * absent for more than 3 windows, and with 3 it kept falling out of the policy (measured when
   * a dropped function was served first of all: it jumped the queue in 2.5 % of its rounds,
   * 8 CPUs, 90 % load).
   */
  expireRounds: number;
  /** Unpredictability fine-tuning (Eq. 2) on. */
  unpredictability: boolean;
  /** Overload fine-tuning (Eq. 3) on. */
  overload: boolean;
}

const PAPER: AlpsParams = {
  alpha: 2,
  beta: 1,
  gamma: 1,
  theta: 50,
  windowNs: 5 * NS_PER_S,
  maxRecords: 5000,
  model: 'avg',
  mode: 'paper',
  ioAware: false,
  cpus: 1,
  seed: 42,
  quantumNs: 8 * NS_PER_MS,
  maxSliceNs: 200 * NS_PER_MS,
  rankBy: 'turnaround',
  rankClassRatio: 2,
  stacking: 'clip',
  monotoneCap: 'off',
  smoothing: 0,
  betaInPenalty: false,
  priorityIsFuncId: false,
  ewmaLambda: 0.2,
  forestTrees: 10,
  cpuTimeScale: 1,
  expireRounds: 12,
  unpredictability: true,
  overload: true,
};

/**
 * Artifact mode reproduces `ds2-lab/ALPS` as written (docs/artifact-algorithm.md §4.4/§4.6): α = 1, rank by mean slice
 * but priority = function id, p·β, the compounding monotone cap, the 200 ms cap before the stdev
 * term, no smoothing (dead code there), stale entries kept forever, the 1/cpus sample of the last
 * 100 records on one CPU with 1 ms ticks, and CPU time scaled by 0.69. cpus = 24 is the artifact's
 * hard-coded sample divisor.
 */
const ARTIFACT: AlpsParams = {
  ...PAPER,
  alpha: 1,
  mode: 'artifact',
  cpus: 24,
  maxRecords: 100,
  rankBy: 'slice',
  rankClassRatio: 1,
  stacking: 'raw',
  monotoneCap: 'compounding',
  betaInPenalty: true,
  priorityIsFuncId: true,
  cpuTimeScale: 0.69,
  expireRounds: Infinity,
};

/** Defaults of a mode (paper unless said otherwise). */
export function defaultLearnerParams(mode: LearnerMode = 'paper'): AlpsParams {
  return { ...(mode === 'artifact' ? ARTIFACT : PAPER) };
}

/** Parameters that describe the deployment, not the algorithm: kept when the mode changes. */
const DEPLOYMENT_KEYS = ['cpus', 'seed', 'windowNs'] as const;

/**
 * Merge a patch onto a base. When the patch switches mode, the algorithm parameters restart from
 * the new mode's defaults (so `{mode: 'artifact'}` alone gives the artifact's α, caps and flags)
 * while the deployment's (cpus, seed, window) are kept.
 */
export function resolveParams(patch: Partial<AlpsParams> = {}, base?: AlpsParams): AlpsParams {
  const switching = base !== undefined && patch.mode !== undefined && patch.mode !== base.mode;
  const from = base && !switching ? base : defaultLearnerParams(patch.mode ?? base?.mode);
  const merged: AlpsParams = { ...from };
  if (switching) for (const k of DEPLOYMENT_KEYS) (merged as unknown as Record<string, unknown>)[k] = base[k];
  // null counts as "not given": JSON turns expireRounds = Infinity (artifact: forever) into null,
  // so `policy.params` read back from JSON must still resolve.
  for (const [k, v] of Object.entries(patch)) if (v !== undefined && v !== null) (merged as unknown as Record<string, unknown>)[k] = v;
  validateLearnerParams(merged);
  return merged;
}

function bad(key: string, problem: string): never {
  throw new InputError(`learner parameter ${key}`, problem);
}

function num(p: Record<string, unknown>, key: string, min: number, max: number, opts: { integer?: boolean; minExclusive?: boolean } = {}): void {
  const v = p[key];
  if (typeof v !== 'number' || Number.isNaN(v)) bad(key, `must be a number, got ${JSON.stringify(v)}`);
  if (opts.integer && !Number.isInteger(v) && v !== Infinity) bad(key, `must be an integer, got ${v}`);
  if (opts.minExclusive ? v <= min : v < min) bad(key, `must be ${opts.minExclusive ? '>' : '≥'} ${min}, got ${v}`);
  if (v > max) bad(key, `must be ≤ ${max}, got ${v}`);
}

function oneOf(p: Record<string, unknown>, key: string, allowed: readonly string[]): void {
  const v = p[key];
  if (typeof v !== 'string' || !allowed.includes(v)) bad(key, `must be one of ${allowed.join('|')}, got ${JSON.stringify(v)}`);
}

function bool(p: Record<string, unknown>, key: string): void {
  if (typeof p[key] !== 'boolean') bad(key, `must be true or false, got ${JSON.stringify(p[key])}`);
}

/**
 * Throws InputError naming the first bad parameter. Accepts a plain LearnerParams too: the ALPS
 * extras are checked only when present.
 */
export function validateLearnerParams(params: LearnerParams | AlpsParams): void {
  const p = params as unknown as Record<string, unknown>;
  num(p, 'alpha', 0, 1000);
  num(p, 'beta', 0, 1000);
  num(p, 'gamma', 0, 1000, { minExclusive: true });
  num(p, 'theta', 0, 100);
  num(p, 'windowNs', 0, 24 * 3600 * NS_PER_S, { integer: true, minExclusive: true });
  num(p, 'maxRecords', 1, 10_000_000, { integer: true });
  oneOf(p, 'model', SLICE_MODELS);
  oneOf(p, 'mode', LEARNER_MODES);
  bool(p, 'ioAware');
  num(p, 'cpus', 1, 4096, { integer: true });
  num(p, 'seed', 0, 0xffff_ffff, { integer: true });
  const present = (k: string): boolean => p[k] !== undefined;
  if (present('quantumNs')) num(p, 'quantumNs', 0, SLICE_LIMIT_NS, { integer: true });
  if (present('maxSliceNs')) num(p, 'maxSliceNs', 0, SLICE_LIMIT_NS, { integer: true, minExclusive: true });
  if (present('rankBy')) oneOf(p, 'rankBy', RANK_BYS);
  if (present('rankClassRatio')) num(p, 'rankClassRatio', 1, 1000);
  if (present('stacking')) oneOf(p, 'stacking', ['clip', 'min-basic', 'raw']);
  if (present('monotoneCap')) oneOf(p, 'monotoneCap', ['off', 'pre-penalty', 'compounding']);
  if (present('smoothing')) num(p, 'smoothing', 0, 1);
  if (present('betaInPenalty')) bool(p, 'betaInPenalty');
  if (present('priorityIsFuncId')) bool(p, 'priorityIsFuncId');
  if (present('ewmaLambda')) num(p, 'ewmaLambda', 0, 1, { minExclusive: true });
  if (present('forestTrees')) num(p, 'forestTrees', 1, 1000, { integer: true });
  if (present('cpuTimeScale')) num(p, 'cpuTimeScale', 0, 100, { minExclusive: true });
  if (present('expireRounds')) num(p, 'expireRounds', 0, Infinity, { integer: true });
  if (present('unpredictability')) bool(p, 'unpredictability');
  if (present('overload')) bool(p, 'overload');
}
