import type { FuncId } from './ids.js';
import type { Ns } from './time.js';

/**
 * One completed function invocation. Produced by the simulator, the BPF profiler and the
 * ghOSt agent alike; consumed by the learner. Times are ns on one clock per producer.
 */
export interface InvocationRecord {
  funcId: FuncId;
  arrivalNs: Ns;
  endNs: Ns;
  /** CPU time actually consumed. */
  cpuNs: Ns;
  /** Invocation id, unique within one stream (optional: traces may omit it). */
  id?: number;
  /** Function name, where the producer knows it. */
  name?: string;
  /** Time from arrival to first run. */
  firstWaitNs?: Ns;
  /** Total time runnable but not running. */
  waitNs?: Ns;
  /** Total time blocked (sleeping, I/O). */
  blockedNs?: Ns;
  voluntarySwitches?: number;
  involuntarySwitches?: number;
  /** Every contiguous run slice, in order. */
  slicesNs?: Ns[];
}

/** Turnaround (end − arrival) of a record. */
export const turnaroundNs = (r: InvocationRecord): Ns => r.endNs - r.arrivalNs;
