import type { Ns } from '../../core/index.js';
import type { EnqueueKind, LoadBalanceOps, SchedulerModel } from '../model.js';
import type { SimTask } from '../task.js';
import { FairRunqueues } from './fair-base.js';

/**
 * Linux CFS as of 6.1–6.5 (before EEVDF), for nice-0 tasks, without group scheduling depth:
 *
 * - vruntime advances by CPU time; per-CPU rbtree (here a heap) ordered by `entityBefore`;
 *   min_vruntime monotonic from curr and the leftmost entity;
 * - sched_slice = max(period(nr)/nr, min_granularity), period = latency, or nr × min_gran
 *   beyond sched_nr_latency (ALT_PERIOD, BASE_SLICE);
 * - place_entity: new tasks at min_vruntime + vslice (START_DEBIT); wakers at
 *   max(vruntime, min_vruntime − latency/2) (GENTLE_FAIR_SLEEPERS); migration renormalises
 *   vruntime against the two runqueues' min_vruntime;
 * - check_preempt_tick: resched after the ideal slice, or after min_granularity when the
 *   leftmost is more than a slice behind; check_preempt_wakeup: preempt when curr's vruntime
 *   exceeds the woken task's by more than wakeup_granularity, making it the next buddy (and
 *   curr the last buddy at ≥ sched_nr_latency tasks); pick_next_entity honours the buddies
 *   when that is not unfair by more than wakeup_granularity;
 * - re-picking the running task keeps prev_sum_exec_runtime (CONFIG_FAIR_GROUP_SCHED path).
 */
export class CfsModel extends FairRunqueues implements SchedulerModel {
  readonly name: string = 'cfs';
  readonly lb: LoadBalanceOps;
  protected readonly nextBuddy: (SimTask | null)[];
  protected readonly lastBuddy: (SimTask | null)[];

  constructor(ncpus: number, baseSliceNs?: Ns) {
    // entityBefore is virtual (the ALPS model overrides the order): look it up per comparison.
    super(ncpus, baseSliceNs, (a, b) => this.entityBefore(a, b));
    this.nextBuddy = new Array<SimTask | null>(ncpus).fill(null);
    this.lastBuddy = new Array<SimTask | null>(ncpus).fill(null);
    this.lb = {
      nrRunning: (cpu) => this.nrRunning(cpu),
      migratable: (cpu, out) => this.migratable(cpu, out),
      detach: (src, t) => {
        this.m.updateCurr(src);
        this.rq[src]!.remove(t);
        this.clearBuddies(src, t);
        t.vruntime -= this.minVr[src]!;
        this.updateMin(src);
      },
      attach: (dst, t) => {
        this.m.updateCurr(dst);
        t.vruntime += this.minVr[dst]!;
        t.cpu = dst;
        this.rq[dst]!.push(t);
      },
    };
  }

  /** The kernel's entity_before(): the runqueue order. */
  protected entityBefore(a: SimTask, b: SimTask): boolean {
    return a.vruntime < b.vruntime || (a.vruntime === b.vruntime && a.id < b.id);
  }

  /** The runqueue's min_vruntime. */
  minVruntime(cpu: number): Ns {
    return this.minVr[cpu]!;
  }

  /** __sched_period. */
  protected period(nr: number): Ns {
    return nr > this.tun.nrLatency ? nr * this.tun.minGranularityNs : this.tun.latencyNs;
  }

  /** sched_slice for an entity on `cpu`; `onRq` false adds the entity itself to the count. */
  sliceNs(cpu: number, onRq: boolean): Ns {
    const nr = this.nrRunning(cpu) + (onRq ? 0 : 1);
    const s = Math.floor(this.period(nr) / Math.max(1, nr));
    return Math.max(s, this.tun.minGranularityNs);
  }

  protected updateMin(cpu: number): void {
    const curr = this.m.curr(cpu);
    let v = this.minVr[cpu]!;
    const left = this.rq[cpu]!.peek();
    if (curr) v = curr.vruntime;
    if (left) v = curr ? Math.min(v, left.vruntime) : left.vruntime;
    if (v > this.minVr[cpu]!) this.minVr[cpu] = v;
  }

  selectCpu(t: SimTask, kind: 'new' | 'wakeup'): number {
    return kind === 'new' ? this.m.placeNew(t) : this.m.placeWakeup(t);
  }

  enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void {
    this.m.updateCurr(cpu);
    const min = this.minVr[cpu]!;
    if (kind === 'new') {
      // task_fork_fair + place_entity(initial): START_DEBIT.
      t.vruntime = min + this.sliceNs(cpu, false);
    } else {
      if (t.cpu >= 0 && t.cpu !== cpu) t.vruntime = t.vruntime - this.minVr[t.cpu]! + min;
      // place_entity(!initial): sleeps up to half a latency earn credit.
      const floor = min - (this.tun.latencyNs >> 1);
      if (t.vruntime < floor) t.vruntime = floor;
    }
    t.cpu = cpu;
    this.rq[cpu]!.push(t);
  }

  /** wakeup_preempt_entity(curr, se): 1 preempt, 0 within granularity, −1 curr is behind. */
  protected wakeupPreemptEntity(curr: SimTask, se: SimTask): -1 | 0 | 1 {
    const vdiff = curr.vruntime - se.vruntime;
    if (vdiff <= 0) return -1;
    return vdiff > this.tun.wakeupGranularityNs ? 1 : 0;
  }

  wantsPreempt(cpu: number, curr: SimTask, t: SimTask): boolean {
    if (curr === t) return false;
    this.m.updateCurr(cpu);
    if (this.wakeupPreemptEntity(curr, t) !== 1) return false;
    this.nextBuddy[cpu] = t;
    if (this.nrRunning(cpu) >= this.tun.nrLatency) this.lastBuddy[cpu] = curr;
    return true;
  }

  putPrev(cpu: number, t: SimTask): void {
    this.rq[cpu]!.push(t);
  }

  protected buddyOk(cpu: number, b: SimTask | null): b is SimTask {
    return b !== null && b.cpu === cpu && b.qpos >= 0 && this.rq[cpu]!.items[b.qpos] === b;
  }

  pickNext(cpu: number, _prev: SimTask | null): SimTask | null {
    const q = this.rq[cpu]!;
    const left = q.peek();
    if (!left) return null;
    let se = left;
    const last = this.lastBuddy[cpu]!;
    if (this.buddyOk(cpu, last) && this.wakeupPreemptEntity(last, left) < 1) se = last;
    const next = this.nextBuddy[cpu]!;
    if (this.buddyOk(cpu, next) && this.wakeupPreemptEntity(next, left) < 1) se = next;
    this.clearBuddies(cpu, se);
    q.remove(se);
    return se;
  }

  protected clearBuddies(cpu: number, t: SimTask): void {
    if (this.nextBuddy[cpu] === t) this.nextBuddy[cpu] = null;
    if (this.lastBuddy[cpu] === t) this.lastBuddy[cpu] = null;
  }

  account(cpu: number, t: SimTask, deltaNs: Ns): void {
    t.vruntime += deltaNs;
    this.updateMin(cpu);
  }

  tick(cpu: number, curr: SimTask): boolean {
    if (this.nrRunning(cpu) <= 1) return false;
    // check_preempt_tick
    const ideal = this.sliceNs(cpu, true);
    const ran = curr.sumExecNs - curr.prevSumExecNs;
    if (ran > ideal) {
      this.clearBuddies(cpu, curr);
      return true;
    }
    if (ran < this.tun.minGranularityNs) return false;
    const left = this.rq[cpu]!.peek();
    if (!left) return false;
    const d = curr.vruntime - left.vruntime;
    return d > ideal;
  }

  dequeueCurr(cpu: number, t: SimTask, _why: 'sleep' | 'exit'): void {
    this.clearBuddies(cpu, t);
    this.updateMin(cpu);
  }
}
