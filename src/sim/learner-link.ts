import { AlpsLearner } from '../learner/index.js';
import type { LearnerFactory } from './learning.js';

/** The ALPS learner from src/learner, built from the run's learner parameters. */
export const defaultLearnerFactory: LearnerFactory = (params) => new AlpsLearner(params);
