/**
 * What one learning round takes and gives, shared by the paper-mode learner (learn.ts) and the
 * artifact-compatible one (artifact.ts); kept apart so neither imports the other for types.
 */
import type { FuncId } from '../core/ids.js';
import type { Policy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { Ages, Pin } from './policy-build.js';

/** What the learner concluded about one function this round (for tables, telemetry, tests). */
export interface FunctionStats {
  funcId: FuncId;
  name?: string;
  invocations: number;
  meanCpuNs: number;
  /** Mean total wait in the replay (paper mode) or mean first wait (artifact mode). */
  meanWaitNs: number;
  meanFirstWaitNs: number;
  meanBlockedNs: number;
  /** The value the rank was sorted by. */
  rankKey: number;
  /** Number of replay slices the models saw. */
  slices: number;
  /** Eq. 1 output (ns). */
  basicNs: number;
  stdevNs: number;
  /** After Eq. 2 and any monotone cap, before Eq. 3 (ns). */
  unpredNs: number;
  rank: number;
  sliceNs: Ns;
}

export interface RoundContext {
  /** Rounds since each previous entry's function was last seen (for expiry). */
  ages?: Ages;
  pins?: ReadonlyMap<FuncId, Pin>;
  /**
   * Start of the learning window (paper mode). Records that arrived before it are replayed — they
   * held CPUs the measured jobs competed for — but are not measured: the jobs *they* competed
   * with completed before the window and are gone, so their replay would run them on an empty
   * machine (zero wait, one long slice) and rank the longest functions first. Undefined: every
   * record is measured (a whole trace, whose first arrival really is the start).
   */
  windowStartNs?: Ns;
  /** Each function's last rank key (from `LearnRound.keys`), to place absent functions in the order. */
  keys?: ReadonlyMap<FuncId, RankKey>;
}

/** What functions are ordered by: `primary` (the statistic of `rankBy`), ties by `cpu` (mean CPU time). */
export interface RankKey {
  primary: number;
  cpu: number;
}

export interface LearnRound {
  policy: Policy;
  /** Functions of this window, in rank order. */
  functions: FunctionStats[];
  /** Overload penalty factor p used. */
  penalty: number;
  utilisationPct: number;
  /** Records the replay used (after the record cap / artifact sampling). */
  recordsUsed: number;
  ages: Map<FuncId, number>;
  /** Rank key of every function in the policy (carried ones keep the key they were last seen with). */
  keys: Map<FuncId, RankKey>;
}
