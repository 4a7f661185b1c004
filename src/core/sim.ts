import type { InvocationRecord } from './records.js';
import type { LearnerParams, Policy } from './policy.js';
import type { Ns } from './time.js';
import type { Workload } from './workload.js';

/**
 * The contract between the simulated machine (src/sim, which implements `simulate`) and its
 * users (src/harness, the CLI, telemetry, the REPL). Types only: the machine lives in src/sim.
 */

/** Scheduler models every build has. Later enforcers (the real ghOSt agent) add names. */
export type SchedulerName = 'cfs' | 'eevdf' | 'fifo' | 'rr' | 'srpt' | 'sfs' | 'alps' | 'alps-delegated' | (string & {});

export interface SimOptions {
  cpus: number;
  scheduler: SchedulerName;
  /** Every random choice of the machine derives from this seed: same seed, same result. */
  seed: number;
  /** Scheduler tick rate (Linux CONFIG_HZ). Default 250. */
  hz?: number;
  /** Cost of one context switch. */
  ctxSwitchNs?: Ns;
  /** Learner parameters for ALPS models (defaults: the paper's). */
  learner?: Partial<LearnerParams>;
  /** Called now and then with the fraction of invocations completed (for progress bars). */
  onProgress?: (fractionDone: number) => void;
  /** Called each time an ALPS model installs a new policy generation. */
  onPolicy?: (policy: Policy, nowNs: Ns) => void;
  /** Scheduler-specific knobs (e.g. delegated-ALPS message/transaction costs). */
  tunables?: Record<string, number | string | boolean>;
}

export interface SimResult {
  scheduler: SchedulerName;
  cpus: number;
  /** One record per invocation, `id` equal to the InvocationSpec's id. */
  records: InvocationRecord[];
  /** Total context switches on all CPUs. */
  contextSwitches: number;
  /** Time of the last completion. */
  makespanNs: Ns;
  /** Busy time per CPU. */
  busyNsPerCpu: Ns[];
  /** Discrete events processed (for the events/s benchmark). */
  events: number;
  /** Policies installed during the run, in order (ALPS models only). */
  policies: Policy[];
}

export type Simulate = (workload: Workload, options: SimOptions) => SimResult;
