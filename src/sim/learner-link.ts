import type { LearnerFactory } from './learning.js';
import { UnsupportedError } from '../core/index.js';

/** The ALPS learner from src/learner (wired once it exists). */
export const defaultLearnerFactory: LearnerFactory = () => {
  throw new UnsupportedError('ALPS learner', 'src/learner is not available in this build');
};
