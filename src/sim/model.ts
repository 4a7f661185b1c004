import type { Ns, Policy } from '../core/index.js';
import type { SimTask } from './task.js';

/** Why a task is being enqueued. */
export type EnqueueKind = 'new' | 'wakeup' | 'migrate';

/**
 * What a scheduler model sees of the machine. The machine owns time, CPUs, accounting, the
 * event queue and the balancer; a model decides placement, order and preemption.
 */
export interface MachineApi {
  readonly ncpus: number;
  readonly now: Ns;
  /** Tick period (1e9 / HZ). */
  readonly tickNs: Ns;
  /** Task running on `cpu` (null when idle or switching to nothing). */
  curr(cpu: number): SimTask | null;
  /** Ask the machine to run `__schedule()` on `cpu` once the current event is handled. */
  resched(cpu: number): void;
  /** Bring the running task's accounting up to now (Linux update_curr). */
  updateCurr(cpu: number): void;
  /** Deliver `onEvent(cpu, tag)` to the model at `atNs` (timers, delayed decisions). */
  post(atNs: Ns, cpu: number, tag: number): void;
  /** CPU demand the task has left, counting its current run up to now. */
  remainingCpu(t: SimTask): Ns;
  /** Task by index (the id the delegated path puts in messages). */
  task(index: number): SimTask;
  /** When `cpu` last became idle (or -Infinity when busy). */
  idleSince(cpu: number): Ns;
  /** Per-CPU balancing support: place a runnable task with the machine's Linux-like rules. */
  placeNew(t: SimTask): number;
  placeWakeup(t: SimTask): number;
}

/**
 * Per-CPU runqueue access the machine's load balancer needs (models with per-CPU queues).
 * Counts follow Linux's h_nr_running: queued tasks plus the running one.
 */
export interface LoadBalanceOps {
  nrRunning(cpu: number): number;
  /** Tasks that may be migrated off `cpu` (queued, not running), tail of cfs_tasks first. */
  migratable(cpu: number, out: SimTask[]): void;
  /** Remove a queued task from `src` for migration. */
  detach(src: number, t: SimTask): void;
  /** Enqueue a migrated task on `dst`. */
  attach(dst: number, t: SimTask): void;
}

/**
 * A scheduling class, in the shape of Linux's `sched_class`: the machine calls these at the
 * points the kernel would. A real ghOSt agent plugs in through `DelegatedModel` (see
 * delegated.ts), which implements this interface by turning the calls into ghOSt messages and
 * applying the agent's per-CPU transactions after message/transaction/IPI delays.
 */
export interface SchedulerModel {
  readonly name: string;
  /** Present when the model keeps per-CPU runqueues that the machine should load-balance. */
  readonly lb?: LoadBalanceOps;
  /** Called once before the run. */
  attach(m: MachineApi): void;
  /**
   * CPU to enqueue a new or waking task on (select_task_rq). Return -1 when the model takes
   * the task without tying it to a CPU yet (the delegated path).
   */
  selectCpu(t: SimTask, kind: 'new' | 'wakeup'): number;
  /** `t` became runnable on `cpu` (cpu = -1 when selectCpu said so). */
  enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void;
  /** After enqueueing `t` on `cpu`: should the running `curr` be preempted (check_preempt_curr)? */
  wantsPreempt(cpu: number, curr: SimTask, t: SimTask): boolean;
  /** The running task is being switched out but stays runnable (put_prev_task). */
  putPrev(cpu: number, t: SimTask): void;
  /**
   * Choose and remove the next task for `cpu` (pick_next_task). `prev` is the task that was
   * running and was just put back (so it is a candidate), or null.
   */
  pickNext(cpu: number, prev: SimTask | null): SimTask | null;
  /**
   * Extra time a switch to `t` costs on `cpu` beyond the machine's context-switch cost (a local
   * ghOSt agent's message + transaction). Optional; the CPU counts as busy meanwhile.
   */
  switchCostNs?(cpu: number, t: SimTask): Ns;
  /** The picked task starts a new run on `cpu` after a switch (set_next_entity). */
  onSwitchIn?(cpu: number, t: SimTask): void;
  /** The running task ran `deltaNs` more (update_curr). */
  account(cpu: number, t: SimTask, deltaNs: Ns): void;
  /** Scheduler tick on a busy CPU; return true to request a reschedule. */
  tick(cpu: number, curr: SimTask): boolean;
  /**
   * __schedule() hook for a preempted (still runnable) prev: return true to keep it running and
   * clear need_resched (ALPS's time-slice extension). Optional.
   */
  keepPrev?(cpu: number, prev: SimTask): boolean;
  /** The running task leaves the CPU: it blocked (`sleep`) or finished (`exit`). */
  dequeueCurr(cpu: number, t: SimTask, why: 'sleep' | 'exit'): void;
  /** A posted event fired. */
  onEvent?(cpu: number, tag: number): void;
  /** A new task arrived (before placement); SFS tracks inter-arrival times here. */
  onArrival?(t: SimTask): void;
  /** A learner produced a policy (ALPS models). */
  setPolicy?(policy: Policy): void;
  /** Number of runnable tasks the model holds that no CPU runs (for invariant checks). */
  queuedTotal(): number;
  /** Runnable tasks queued on `cpu` and not running (-1 when the model has no per-CPU queues). */
  queuedOn(cpu: number): number;
}
