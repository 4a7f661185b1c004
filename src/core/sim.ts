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

/**
 * What the simulator models of a real machine beyond its CPU count: the costs a real host adds
 * to every invocation and switch, its tick, its speed, its background load and its default
 * scheduler's base slice. Read from a machine file (`simulate --machine FILE`, written by
 * `ghost-alps calibrate`; schema and semantics in src/sim/machine-profile.ts and
 * docs/simulator.md). Every scheduler model runs on the same machine.
 */
export interface MachineProfile {
  /** Scheduler tick rate (CONFIG_HZ). */
  hz: number;
  /** Direct cost of one context switch, ns (the CPU counts as busy meanwhile). */
  ctxSwitchNs: Ns;
  /** CPU every invocation spends on this machine beyond its demand (fork, exit, launcher), ns; runs before the function. */
  launchCpuNs: Ns;
  /** Speed against the trace's reference CPU: a demand of d ns runs for d / cpuCapacity ns. */
  cpuCapacity: number;
  /** Share of every CPU taken by work outside the trace (timers, kernel threads), 0..<1. */
  backgroundLoad: number;
  /** The default scheduler's base slice for one CPU (EEVDF base_slice / CFS min_granularity, before the kernel's log2 CPU scaling), ns. */
  baseSliceNs: Ns;
}

export interface SimOptions {
  cpus: number;
  scheduler: SchedulerName;
  /** Every random choice of the machine derives from this seed: same seed, same result. */
  seed: number;
  /** Scheduler tick rate (Linux CONFIG_HZ). Default 250. */
  hz?: number;
  /** Cost of one context switch. */
  ctxSwitchNs?: Ns;
  /** The machine modelled (default: an ideal host, DEFAULT_MACHINE); `hz`/`ctxSwitchNs` above override its fields. */
  machine?: MachineProfile;
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
