import type { FuncId } from '../core/ids.js';
import type { Ns } from '../core/time.js';
import type { Workload } from '../core/workload.js';

/**
 * A workload plus what the generator knows about it, for reports: how it was scaled, and
 * (for the I/O study's mix) which study class each function belongs to.
 */
export interface WorkloadBundle {
  workload: Workload;
  /** One line saying what this is, for report headers. */
  description: string;
  /** CPUs the arrival rate was scaled for. */
  cpus: number;
  /** Offered CPU utilisation: Σ CPU demand / (cpus × span of arrivals). */
  offeredLoad: number;
  /** Mean CPU demand per invocation. */
  meanCpuNs: Ns;
  /** Arrival rate, invocations per second. */
  ratePerSec: number;
  /**
   * Optional second grouping for reports (the I/O study's classes "1"…"4"): funcId → class
   * key, plus a human label per key.
   */
  classes?: { of: Map<FuncId, string>; labels: Record<string, string> };
}

/** Offered utilisation of a workload on `cpus` CPUs (arrival span from 0 to the last arrival). */
export function offeredLoad(workload: Workload, cpus: number): number {
  const inv = workload.invocations;
  if (inv.length === 0) return 0;
  let cpu = 0;
  for (const s of inv) for (const p of s.phases) if (p.kind === 'cpu') cpu += p.ns;
  const span = inv[inv.length - 1]!.arrivalNs;
  return span > 0 ? cpu / (cpus * span) : Infinity;
}
