import type { FuncId } from './ids.js';
import type { InvocationRecord } from './records.js';
import type { Ns } from './time.js';

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
