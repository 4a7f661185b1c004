import type { FuncId, Ns, Policy, PolicyEntry } from '../../core/index.js';
import { policyIndex } from '../../core/index.js';
import { before, displaces, escapeDeadlineNs, ESCAPE_SLOWDOWN, functionRank, overdueDegree, LEVEL_OVERDUE, levelOf, preempts, type RuleTask } from '../../core/alps-rule.js';
import type { EnqueueKind } from '../model.js';
import { TaskState, type SimTask } from '../task.js';
import { CfsModel } from './cfs.js';

/**
 * ALPS in the kernel, in the simulator: Linux CFS's machinery (per-CPU runqueues, placement, the
 * balancer, ticks) with the ALPS rule of src/core/alps-rule.ts deciding order, preemption, slice
 * protection and the tail bound (docs/scx.md "The ALPS rule"):
 *
 * - entity_before() is the rule's `before` (level, then EDF / vruntime / arrival); the leftmost
 *   entity feeds check_preempt_tick and min_vruntime; buddies are honoured only within the
 *   leftmost entity's level;
 * - check_preempt_curr (wake-up, new task, load-balance pull) is the rule's `preempts`: a strictly
 *   lower level preempts at once, nothing else does;
 * - the __schedule hook (keepPrev) is slice protection: a preempted task keeps the CPU until it
 *   has run its learned slice since it was picked, unless a strictly lower level waits; the tick
 *   notices a queued task that turned overdue (its level drops to 0) within one tick;
 * - at slice end the put-back task competes with the queue by the same order (FCFS within a
 *   rank: an older task of the same rank keeps its CPU);
 * - placement (select_task_rq / ops.select_cpu): Linux's choice stands when that CPU is idle or
 *   runs a task the newcomer outranks; else the CPU running the worst-level task it outranks
 *   (ties: fewest queued), where it preempts — SRPT's "preempt the longest running job".
 *
 * `tail` selects the tail rule for the measurements of docs/simulator.md ("Tail rules"); the
 * rule every enforcer implements is the default, the escape deadline.
 */
export type AlpsTailRule =
  | { kind: 'deadline'; slowdown: number }
  /** Previous model: overdue once CPU ≥ minCpuNs and waited > factor × CPU. */
  | { kind: 'lag'; minCpuNs: Ns; factor: number }
  /** Previous BPF key: ranked tasks by arrival + rank × ageNs + CPU received. */
  | { kind: 'linear'; ageNs: Ns }
  | { kind: 'none' };

export const DEFAULT_TAIL: AlpsTailRule = { kind: 'deadline', slowdown: ESCAPE_SLOWDOWN };

/** CPU a task must have had before the old lag bound applies (the learner's slice cap). */
export const OVERDUE_MIN_CPU_NS: Ns = 200_000_000;
/** K of the old lag bound: overdue once runnable-waiting time > K × CPU received. */
export const OVERDUE_WAIT_FACTOR = 2;

export class AlpsModel extends CfsModel {
  override readonly name: string = 'alps';
  private entries = new Map<FuncId, PolicyEntry>();
  private readonly a: RuleTask = { level: 0, degree: 0, deadlineNs: 0, fairKey: 0, rank: 0, arrivalNs: 0, id: 0 };
  private readonly b: RuleTask = { level: 0, degree: 0, deadlineNs: 0, fairKey: 0, rank: 0, arrivalNs: 0, id: 0 };

  constructor(
    ncpus: number,
    private readonly tail: AlpsTailRule = DEFAULT_TAIL,
    baseSliceNs?: Ns,
  ) {
    super(ncpus, baseSliceNs);
  }

  /** The rule's view of `t` (its level is `t.tag`, kept current by refresh). */
  private view(t: SimTask, into: RuleTask): RuleTask {
    into.level = t.tag;
    into.deadlineNs = t.deadline;
    into.fairKey = t.vruntime;
    into.arrivalNs = this.tail.kind === 'linear' ? t.arrivalNs + t.rank * this.tail.ageNs + t.sumExecNs : t.arrivalNs;
    into.id = t.id;
    into.rank = t.rank;
    into.degree = t.key;
    return into;
  }

  protected override entityBefore(x: SimTask, y: SimTask): boolean {
    return before(this.view(x, this.a), this.view(y, this.b));
  }

  /** Time `t` has waited runnable since it arrived, up to now (blocked time excluded). */
  private waitedNs(t: SimTask): Ns {
    return t.waitNs + (t.state === TaskState.runnable ? this.m.now - t.waitSinceNs : 0);
  }

  /** Recompute rank, slice, escape deadline and level of `t` at the current time. */
  private refresh(t: SimTask): void {
    const e = this.entries.get(t.funcId);
    t.learnedSliceNs = e ? e.sliceNs : 0;
    t.rank = functionRank(t.funcId, e?.rank, this.entries.size);
    const tail = this.tail;
    if (tail.kind === 'deadline') {
      t.deadline = t.rank > 0 ? escapeDeadlineNs(t.arrivalNs, e?.expectedCpuNs, tail.slowdown) : Infinity;
      t.tag = levelOf(t.rank, t.deadline, this.m.now);
      t.key = overdueDegree(t.arrivalNs, t.deadline, this.m.now);
    } else if (tail.kind === 'lag') {
      const wasOverdue = t.tag === LEVEL_OVERDUE && t.rank > 0;
      const overdue = t.sumExecNs >= tail.minCpuNs && this.waitedNs(t) > tail.factor * t.sumExecNs;
      // An overdue running task stays overdue until it has run its learned slice.
      const keep = wasOverdue && t.state === TaskState.running && t.sumExecNs - t.prevSumExecNs < t.learnedSliceNs;
      t.deadline = 0;
      t.tag = t.rank > 0 && (overdue || keep) ? LEVEL_OVERDUE : levelOf(t.rank, Infinity, 0);
    } else {
      t.deadline = Infinity;
      t.tag = levelOf(t.rank, Infinity, 0);
    }
  }

  /** Re-evaluate the levels of `cpu`'s queued tasks (a queued task turns overdue with time). */
  private age(cpu: number): void {
    const q = this.rq[cpu]!;
    let changed = false;
    for (const t of q.items) {
      const was = t.tag;
      const deg = t.key;
      this.refresh(t);
      if (t.tag !== was || t.key !== deg) changed = true;
    }
    if (changed) q.rebuild();
  }

  override selectCpu(t: SimTask, kind: 'new' | 'wakeup'): number {
    this.refresh(t);
    const linux = super.selectCpu(t, kind);
    const c = this.m.curr(linux);
    if (c === null || preempts(t.tag, c.tag)) return linux;
    let best = -1;
    let bestLevel = t.tag;
    let bestQueued = Infinity;
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      const cur = this.m.curr(cpu);
      if (cur === null || !preempts(t.tag, cur.tag)) continue;
      const queued = this.rq[cpu]!.size;
      if (cur.tag > bestLevel || (cur.tag === bestLevel && queued < bestQueued)) {
        best = cpu;
        bestLevel = cur.tag;
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

  override wantsPreempt(cpu: number, curr: SimTask, t: SimTask): boolean {
    if (curr === t) return false;
    this.refresh(curr);
    if (preempts(t.tag, curr.tag)) {
      this.m.updateCurr(cpu);
      return true;
    }
    return false;
  }

  /** Does the best queued task of `cpu` displace `curr` inside its slice `sliceNs`? */
  private displaced(cpu: number, curr: SimTask, sliceNs: Ns): boolean {
    const left = this.rq[cpu]!.peek() ?? null;
    if (!left) return false;
    return displaces(this.view(left, this.a), this.view(curr, this.b), curr.sumExecNs - curr.prevSumExecNs, sliceNs);
  }

  override tick(cpu: number, curr: SimTask): boolean {
    this.age(cpu);
    this.refresh(curr);
    if (this.displaced(cpu, curr, Infinity)) {
      this.clearBuddies(cpu, curr);
      return true;
    }
    return super.tick(cpu, curr);
  }

  /**
   * A CPU with nothing queued takes the best queued task of any runqueue (by the rule's order),
   * as an idle CPU dispatching from the sched_ext scheduler's shared queue does; Linux's
   * newidle balance would pull by load, blind to rank.
   */
  override pickNext(cpu: number, prev: SimTask | null): SimTask | null {
    if (this.rq[cpu]!.size === 0) {
      let src = -1;
      let best: SimTask | null = null;
      for (let c = 0; c < this.ncpus; c++) {
        if (c === cpu) continue;
        const h = this.rq[c]!.peek();
        if (h && (!best || this.entityBefore(h, best))) {
          best = h;
          src = c;
        }
      }
      if (best) {
        this.lb.detach(src, best);
        this.lb.attach(cpu, best);
      }
    }
    return super.pickNext(cpu, prev);
  }

  protected override buddyOk(cpu: number, b: SimTask | null): b is SimTask {
    if (!super.buddyOk(cpu, b)) return false;
    const left = this.rq[cpu]!.peek();
    return !left || left.tag === b.tag;
  }

  keepPrev(cpu: number, prev: SimTask): boolean {
    const s: Ns = prev.learnedSliceNs;
    return s > 0 && prev.sumExecNs - prev.prevSumExecNs < s && !this.displaced(cpu, prev, s);
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


