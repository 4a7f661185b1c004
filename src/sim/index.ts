/**
 * The simulated machine and its scheduler models. `simulate` implements the `Simulate`
 * contract of src/core/sim.ts.
 */
import type { Simulate } from '../core/index.js';
import { simulate as simulateImpl } from './simulate.js';

export const simulate: Simulate & typeof simulateImpl = simulateImpl;
export { DEFAULT_CTX_SWITCH_NS, DEFAULT_HZ, type SimDeps } from './simulate.js';
export { SCHEDULERS, LEARNING_SCHEDULERS, createModel } from './registry.js';
export type { SchedulerModel, MachineApi, LoadBalanceOps, EnqueueKind } from './model.js';
export type { DelegatedAgent, GhostMessage, GhostMessageType, GhostTxn, GhostCosts } from './agent.js';
export { GHOST_COSTS } from './agent.js';
export { AlpsGhostAgent } from './alps-agent.js';
export { DelegatedModel } from './models/delegated.js';
export type { LearnerFactory } from './learning.js';
export { SimTask, TaskState } from './task.js';
export { fairTunables, tunableFactor, DEFAULT_BASE_SLICE_NS } from './linux.js';
export { applyMachine, DEFAULT_MACHINE, formatMachineFile, MACHINE_FORMAT, profileOf, readMachineFile, validateMachineFile, validateMachineProfile, type MachineFile } from './machine-profile.js';
export { predictedSrpt, predictions, PredictedSrptAgent, type Prediction } from './predicted-srpt.js';
