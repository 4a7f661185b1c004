import type { FuncId, InvocationRecord, InvocationSpec, Ns } from '../core/index.js';

/** Where a task is in its life. */
export const TaskState = {
  /** Not arrived yet. */
  pending: 0,
  /** Runnable, waiting in some queue (or in flight to a CPU). */
  runnable: 1,
  running: 2,
  blocked: 3,
  done: 4,
} as const;

/**
 * One invocation on the simulated machine. The machine owns the accounting fields; the
 * scheduler models own the fields under "scheduler state" (one object per task, so no maps in
 * the hot loop). All tasks are nice 0 (weight 1024), as function sandboxes are on real hosts.
 */
export class SimTask {
  readonly id: number;
  readonly funcId: FuncId;
  readonly arrivalNs: Ns;
  readonly phases: InvocationSpec['phases'];
  /** Index into `SimResult.records` / the workload's invocation array. */
  readonly index: number;

  state: number = TaskState.pending;
  phaseIdx = -1;
  /** ns left in the current phase (CPU or block). */
  phaseLeftNs = 0;
  /** CPU demand still to run, all phases (the SRPT oracle reads it). */
  remainingCpuNs = 0;
  /** CPU it runs on, or last ran on / was queued on; -1 before the first placement. */
  cpu = -1;

  // --- accounting (machine) ---
  /** Linux sum_exec_runtime. */
  sumExecNs = 0;
  /** Linux prev_sum_exec_runtime: sumExec when last picked by a switch. */
  prevSumExecNs = 0;
  /** When CPU accounting for the current run continues from (exec_start). */
  runFromNs = 0;
  /** Last time it was on a CPU (for the load balancer's cache-hot test). */
  lastRanNs = -Infinity;
  waitSinceNs = 0;
  firstWaitNs = -1;
  waitNs = 0;
  blockedNs = 0;
  voluntary = 0;
  involuntary = 0;
  slices: Ns[] = [];
  sliceStartNs = 0;
  endNs = 0;

  // --- scheduler state (models) ---
  vruntime = 0;
  deadline = 0;
  vlag = 0;
  /** Learned rank (ALPS; 0 = no policy entry, served first as the kernel hook does). */
  rank = 0;
  /** Learned slice ns (ALPS; 0 = the kernel's default). */
  learnedSliceNs = 0;
  /** Generic ordering key (FIFO sequence number, SFS level, …). */
  key = 0;
  /** Position in an IndexedHeap; -1 when in none. */
  qpos = -1;
  /** Recency stamp for the balancer's "tail of cfs_tasks" order. */
  lru = 0;
  /** Model-specific small integer (SFS level, delegated slot, …). */
  tag = 0;
  /** Model-specific ns budget (SFS FIFO budget left, …). */
  budgetNs = 0;

  constructor(spec: InvocationSpec, index: number) {
    this.id = spec.id;
    this.funcId = spec.funcId;
    this.arrivalNs = spec.arrivalNs;
    this.phases = spec.phases;
    this.index = index;
    let cpu = 0;
    for (const p of spec.phases) if (p.kind === 'cpu') cpu += p.ns;
    this.remainingCpuNs = cpu;
  }
}

/**
 * The InvocationRecord of a finished task: what the learner observes during a run and what
 * SimResult reports at its end. `copySlices` gives the record its own slice array (records handed
 * to a learner mid-run must not alias the task's).
 */
export function taskRecord(t: SimTask, copySlices = false): InvocationRecord {
  return {
    funcId: t.funcId,
    arrivalNs: t.arrivalNs,
    endNs: t.endNs,
    cpuNs: t.sumExecNs,
    id: t.id,
    firstWaitNs: Math.max(0, t.firstWaitNs),
    waitNs: t.waitNs,
    blockedNs: t.blockedNs,
    voluntarySwitches: t.voluntary,
    involuntarySwitches: t.involuntary,
    slicesNs: copySlices ? t.slices.slice() : t.slices,
  };
}
