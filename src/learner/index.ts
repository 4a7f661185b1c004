/**
 * The ALPS learner (paper §5.2): SRPT replay of the recent past → task-ordering rank and
 * time-slice models → fine-tuning → one Policy. `mode: 'paper'` (default) is the algorithm the
 * paper describes; `mode: 'artifact'` reproduces the published artifact. See docs/learner.md.
 */
export { AlpsLearner, createLearner } from './learner.js';
export { warmUpLearner } from './warm-up.js';
export {
  defaultLearnerParams,
  validateLearnerParams,
  resolveParams,
  SLICE_LIMIT_NS,
  MAX_RANK,
  type AlpsParams,
  type RankBy,
  RANK_BYS,
  type Stacking,
  type MonotoneCap,
} from './params.js';
export { srptReplay, type ReplayJob, type ReplayOutcome, type ReplayOptions, type ReplayResult, type Discipline } from './replay.js';
export { artifactReplay, type TickJob, type TickOutcome, type TickPolicy } from './artifact-replay.js';
export { artifactWindow, learnFromTickRows, learnArtifact, ARTIFACT_RESERVED_UID } from './artifact.js';
export { learnPolicy, learnRound, learnFromReplay, checkUtilisation, rankClass } from './learn.js';
export type { FunctionStats, LearnRound, RoundContext, RankKey } from './round.js';
export { penaltyFactor, stack, unpredictable } from './finetune.js';
export { basicSlice, linregPredictNext, ewmaLast, type ModelOptions } from './models.js';
export { forestPredictNext } from './forest.js';
export { finishPolicy, safeSlice, safeRank, type Pin } from './policy-build.js';
export { mean, popStdev } from './stats.js';
