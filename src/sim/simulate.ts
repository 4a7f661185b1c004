import type { Ns, Policy, SimOptions, SimResult, Workload } from '../core/index.js';
import { InputError } from '../core/index.js';
import type { DelegatedAgent } from './agent.js';
import type { LearnerFactory } from './learning.js';
import { attachLearner } from './learning.js';
import { Machine } from './machine.js';
import type { SchedulerModel } from './model.js';
import { createModel, LEARNING_SCHEDULERS } from './registry.js';
import { defaultLearnerFactory } from './learner-link.js';
import { applyMachine, DEFAULT_MACHINE, validateMachineProfile } from './machine-profile.js';

/** Default context-switch cost: direct cost of a Linux switch between processes (~2 µs). */
export const DEFAULT_CTX_SWITCH_NS: Ns = DEFAULT_MACHINE.ctxSwitchNs;
export const DEFAULT_HZ = DEFAULT_MACHINE.hz;

/** Extra wiring for callers that bring their own learner or ghOSt agent (tests, the agent). */
export interface SimDeps {
  /** Learner for the ALPS models (default: src/learner's AlpsLearner). */
  learner?: LearnerFactory;
  /**
   * A ghOSt-style agent to drive the CPUs on the delegated path: replaces the built-in ALPS
   * agent for 'alps-delegated', or runs under any other scheduler name it is given.
   */
  agent?: DelegatedAgent;
  /** A whole scheduling class of the caller's own, under `options.scheduler`. */
  model?: (ncpus: number) => SchedulerModel;
}

function validate(workload: Workload, o: SimOptions): void {
  if (!Number.isInteger(o.cpus) || o.cpus < 1) throw new InputError('cpus', `must be an integer ≥ 1, got ${o.cpus}`);
  if (!Number.isInteger(o.seed)) throw new InputError('seed', `must be an integer, got ${o.seed}`);
  if (o.hz !== undefined && (!Number.isFinite(o.hz) || o.hz < 1 || o.hz > 10_000)) {
    throw new InputError('hz', `must be between 1 and 10000, got ${o.hz}`);
  }
  if (o.ctxSwitchNs !== undefined && (!Number.isFinite(o.ctxSwitchNs) || o.ctxSwitchNs < 0)) {
    throw new InputError('ctxSwitchNs', `must be ≥ 0, got ${o.ctxSwitchNs}`);
  }
  let last = -Infinity;
  workload.invocations.forEach((s, i) => {
    const where = `${workload.name}: invocation #${i} (id ${s.id})`;
    if (!Number.isFinite(s.arrivalNs) || s.arrivalNs < 0) throw new InputError(where, `bad arrivalNs ${s.arrivalNs}`);
    if (s.arrivalNs < last) throw new InputError(where, 'invocations must be sorted by arrival');
    last = s.arrivalNs;
    for (const p of s.phases) {
      if ((p.kind !== 'cpu' && p.kind !== 'block') || !Number.isInteger(p.ns) || p.ns < 0) {
        throw new InputError(where, `bad phase ${JSON.stringify(p)}`);
      }
    }
  });
}

/**
 * Run `workload` on a simulated C-CPU machine under one scheduler model. Deterministic: the
 * same workload, options and seed give the same result.
 */
export function simulate(workload: Workload, options: SimOptions, deps: SimDeps = {}): SimResult {
  validate(workload, options);
  const profile = options.machine ? validateMachineProfile(options.machine) : DEFAULT_MACHINE;
  const tunables = options.tunables ?? {};
  const check = tunables['checkInvariants'];
  const model = deps.model ? deps.model(options.cpus) : createModel(options.scheduler, options.cpus, tunables, deps.agent, profile.baseSliceNs);
  const machine = new Machine(applyMachine(workload, profile), model, {
    ncpus: options.cpus,
    hz: options.hz ?? profile.hz,
    ctxSwitchNs: options.ctxSwitchNs ?? profile.ctxSwitchNs,
    seed: options.seed,
    checkInvariants: check === true ? (model.lb ? 'per-cpu' : 'global') : false,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const policies: Policy[] = [];
  // ALPS models learn; so does any outside agent or model that accepts policies.
  const learns = LEARNING_SCHEDULERS.has(options.scheduler) || ((deps.agent?.setPolicy || deps.model) && model.setPolicy);
  if (learns) {
    const factory = deps.learner ?? defaultLearnerFactory;
    const learner = factory({ ...options.learner, cpus: options.learner?.cpus ?? options.cpus, seed: options.learner?.seed ?? options.seed });
    attachLearner(machine, model, learner, policies, options.onPolicy);
  }
  machine.run();
  options.onProgress?.(1);
  return {
    scheduler: options.scheduler,
    cpus: options.cpus,
    records: machine.records(),
    contextSwitches: machine.contextSwitches,
    makespanNs: machine.makespanNs,
    busyNsPerCpu: Array.from(machine.busyNs),
    events: machine.events,
    policies,
  };
}
