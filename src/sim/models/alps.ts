import type { FuncId, Ns, Policy, PolicyEntry } from '../../core/index.js';
import { policyIndex } from '../../core/index.js';
import type { EnqueueKind } from '../model.js';
import { TaskState, type SimTask } from '../task.js';
import { CfsModel } from './cfs.js';

/**
 * ALPS in the kernel (paper §5.3, artifact hooks with the recommended fixes of
 * docs/facts/alps-artifact-algorithm.md §5.4–5.5):
 *
 * - ordering hook in entity_before(): lexicographic (rank, vruntime); a function without a
 *   policy entry has rank 0 and so runs before ranked functions, as the kernel map lookup
 *   returning 0 makes it. The leftmost entity (by the hooked order) feeds check_preempt_tick and
 *   min_vruntime;
 * - time-slice hook in __schedule(): a preempted function task whose learned slice exceeds
 *   the CPU it has had since it was last picked keeps the CPU (need_resched is cleared), so
 *   after each pick it cannot be preempted by an equal- or worse-ranked task before it has run
 *   its learned slice. Blocking and exit still switch.
 *
 * Rank-aware preemption (the rank is the order SRPT would serve in, so it must also decide who
 * may interrupt whom, as SRPT's "a shorter job preempts" does — the learned slice is the length
 * of the runs SRPT gave the function *between* such preemptions, not a shield against them):
 *
 * - wake-up/enqueue (check_preempt_curr, also after a load-balance pull): a task whose rank is
 *   strictly better (lower) than the running task's preempts it at once; a strictly worse one
 *   never does; equal ranks follow CFS's vruntime/wakeup-granularity rule. In sched_ext this is
 *   `scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT)` from enqueue when rank(p) < rank(curr(cpu));
 * - tick (check_preempt_tick): a strictly better-ranked task waiting on this CPU's runqueue
 *   (arrived by a path without the wake-up check) preempts the running task;
 * - slice extension: only when nothing strictly better-ranked waits on the CPU;
 * - buddies (next/last) are honoured only within the leftmost entity's rank, so CFS's buddy
 *   shortcut can never run a worse-ranked task ahead of a better-ranked one;
 * - placement (select_task_rq / sched_ext ops.select_cpu): Linux's choice stands when that CPU
 *   is idle or runs a task the newcomer outranks. When it runs a task ranked no worse than the
 *   newcomer, the newcomer goes instead to the CPU running the worst-ranked task it outranks
 *   (ties: fewest queued, then lowest CPU number), and preempts it there — SRPT's "preempt the
 *   longest running job", where Linux's placement would queue a short task behind a shorter one
 *   while a long one runs on the next CPU. No such CPU: Linux's choice (it waits either way).
 *   In sched_ext: a per-CPU array of the running task's rank, written in ops.running, scanned
 *   in ops.select_cpu.
 *
 * Tail protection (SRPT's gains without its tail; see docs/simulator.md "ALPS tail protection"):
 *
 * - FCFS within a rank: equal ranks are ordered by arrival, not vruntime, and never wake-up-
 *   preempt each other. Within one class the jobs are of similar length, so the oldest is the
 *   closest to SRPT's choice, and FCFS minimises the largest wait where processor sharing makes a
 *   burst of long jobs all finish late. sched_ext: the DSQ vtime key is (rank << 40 | arrival).
 * - Lag bound: a task that has received ≥ OVERDUE_MIN_CPU_NS of CPU and has waited runnable more
 *   than OVERDUE_WAIT_FACTOR × that CPU is *overdue* and runs at rank 0 (ahead of all ranked
 *   work) until, after running its learned slice, its wait is back under the bound. Re-checked on
 *   enqueue/put_prev, and for queued tasks at every tick (their wait grows while queued).
 *   sched_ext: per-task wait_ns (stamp in ops.runnable/ops.stopping, add in ops.running) and
 *   p->se.sum_exec_runtime; ops.enqueue computes the effective rank; ops.tick walks the local DSQ
 *   and re-inserts newly overdue tasks with scx_bpf_dsq_move, then kicks with SCX_KICK_PREEMPT.
 */
/**
 * CPU a task must have had before the lag bound applies: the learner's default slice cap
 * (`maxSliceNs`, 200 ms). A task past it has outrun every learned slice — it is in the long tail,
 * where static ranks would starve it — while everything shorter is left to the learned order.
 */
export const OVERDUE_MIN_CPU_NS: Ns = 200_000_000;
/** K of the lag bound: overdue once runnable-waiting time > K × CPU received (slowdown > K + 1). */
export const OVERDUE_WAIT_FACTOR = 2;

export class AlpsModel extends CfsModel {
  override readonly name: string = 'alps';
  private entries = new Map<FuncId, PolicyEntry>();

  protected override entityBefore(a: SimTask, b: SimTask): boolean {
    if (a.rank !== b.rank) return a.rank < b.rank;
    return a.arrivalNs < b.arrivalNs || (a.arrivalNs === b.arrivalNs && a.id < b.id);
  }

  /** Time `t` has waited runnable since it arrived, up to now (blocked time excluded). */
  private waitedNs(t: SimTask): Ns {
    return t.waitNs + (t.state === TaskState.runnable ? this.m.now - t.waitSinceNs : 0);
  }

  /** The lag bound: a task that has outrun every learned slice and waited > K × its CPU. */
  private overdue(t: SimTask): boolean {
    return t.sumExecNs >= OVERDUE_MIN_CPU_NS && this.waitedNs(t) > OVERDUE_WAIT_FACTOR * t.sumExecNs;
  }

  private refresh(t: SimTask): void {
    const e = this.entries.get(t.funcId);
    t.learnedSliceNs = e ? e.sliceNs : 0;
    t.tag = this.overdue(t) ? 1 : 0;
    t.rank = t.tag === 1 || !e ? 0 : e.rank;
  }

  /** Re-evaluate the overdue status of `cpu`'s queued tasks (their wait grows while queued). */
  private age(cpu: number): void {
    const q = this.rq[cpu]!;
    let changed = false;
    for (const t of q.items) {
      const was = t.rank;
      this.refresh(t);
      if (t.rank !== was) changed = true;
    }
    if (changed) q.rebuild();
  }

  override selectCpu(t: SimTask, kind: 'new' | 'wakeup'): number {
    this.refresh(t);
    const linux = super.selectCpu(t, kind);
    const c = this.m.curr(linux);
    if (c === null || t.rank < c.rank) return linux;
    let best = -1;
    let bestRank = t.rank;
    let bestQueued = Infinity;
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      const cur = this.m.curr(cpu);
      if (cur === null || cur.rank <= t.rank) continue;
      const queued = this.rq[cpu]!.size;
      if (cur.rank > bestRank || (cur.rank === bestRank && queued < bestQueued)) {
        best = cpu;
        bestRank = cur.rank;
        bestQueued = queued;
      }
    }
    return best >= 0 ? best : linux;
  }

  override enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void {
    this.refresh(t);
    super.enqueue(cpu, t, kind);
  }

  override putPrev(cpu: number, t: SimTask): void {
    this.refresh(t);
    super.putPrev(cpu, t);
  }

  /** A task on `cpu`'s runqueue ranks strictly better than `curr`. */
  private betterWaiting(cpu: number, curr: SimTask): boolean {
    const left = this.rq[cpu]!.peek();
    return left !== undefined && left !== null && left.rank < curr.rank;
  }

  override wantsPreempt(cpu: number, curr: SimTask, t: SimTask): boolean {
    if (curr === t) return false;
    if (t.rank < curr.rank) {
      this.m.updateCurr(cpu);
      return true;
    }
    if (t.rank > curr.rank) return false;
    // Equal ranks are served in arrival order (FCFS within a class): no wake-up preemption among
    // them; the tick's slice rules still rotate them.
    return false;
  }

  override tick(cpu: number, curr: SimTask): boolean {
    this.age(cpu);
    if (curr.tag && curr.sumExecNs - curr.prevSumExecNs >= curr.learnedSliceNs) this.refresh(curr);
    if (this.betterWaiting(cpu, curr)) {
      this.clearBuddies(cpu, curr);
      return true;
    }
    return super.tick(cpu, curr);
  }

  protected override buddyOk(cpu: number, b: SimTask | null): b is SimTask {
    if (!super.buddyOk(cpu, b)) return false;
    const left = this.rq[cpu]!.peek();
    return !left || left.rank === b.rank;
  }

  keepPrev(cpu: number, prev: SimTask): boolean {
    const s: Ns = prev.learnedSliceNs;
    return s > 0 && prev.sumExecNs - prev.prevSumExecNs < s && !this.betterWaiting(cpu, prev);
  }

  setPolicy(policy: Policy): void {
    this.entries = policyIndex(policy);
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      const q = this.rq[cpu]!;
      for (const t of q.items) this.refresh(t);
      q.rebuild();
      const c = this.m.curr(cpu);
      if (c) this.refresh(c);
    }
  }
}
