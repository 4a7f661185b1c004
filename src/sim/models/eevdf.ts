import type { Ns } from '../../core/index.js';
import type { EnqueueKind, LoadBalanceOps, SchedulerModel } from '../model.js';
import type { SimTask } from '../task.js';
import { FairRunqueues } from './fair-base.js';

/**
 * Linux EEVDF as merged in 6.6 (nice-0 tasks, weight factored out):
 *
 * - avg_vruntime V over the runqueue including curr; an entity is eligible when its lag
 *   V − vruntime ≥ 0 (computed as Σkey ≥ key·n, integer, like entity_eligible);
 * - virtual deadline = vruntime + base_slice, base_slice = 0.75 ms × factor; update_deadline
 *   on every update_curr: when vruntime reaches the deadline the slice renews and, with
 *   other tasks queued, curr is rescheduled (no check_preempt_tick any more);
 * - pick_eevdf: earliest deadline among eligible entities; RUN_TO_PARITY keeps curr while it
 *   is eligible and its deadline is the one it was picked with (vlag stash);
 * - wake-up preemption iff pick_eevdf would choose the woken task;
 * - place_entity with PLACE_LAG (lag scaled by (load+w)/load) and PLACE_DEADLINE_INITIAL
 *   (new tasks get half a slice); lag is saved at dequeue, clamped to max(2·slice, TICK).
 */
export class EevdfModel extends FairRunqueues implements SchedulerModel {
  readonly name: string = 'eevdf';
  readonly lb: LoadBalanceOps;
  /** Σ (vruntime − min_vruntime) over queued (not running) entities: cfs_rq->avg_vruntime. */
  protected readonly sumKey: Float64Array;
  readonly baseSliceNs: Ns;

  constructor(ncpus: number, baseSliceNs?: Ns) {
    // Queued entities ordered by vruntime (the 6.6 rbtree order).
    super(ncpus, baseSliceNs, (a, b) => a.vruntime < b.vruntime || (a.vruntime === b.vruntime && a.id < b.id));
    this.baseSliceNs = this.tun.minGranularityNs;
    this.sumKey = new Float64Array(ncpus);
    this.lb = {
      nrRunning: (cpu) => this.nrRunning(cpu),
      migratable: (cpu, out) => this.migratable(cpu, out),
      detach: (src, t) => {
        this.m.updateCurr(src);
        this.saveLag(src, t, this.m.curr(src));
        this.remove(src, t);
        this.updateMin(src);
      },
      attach: (dst, t) => this.enqueue(dst, t, 'migrate'),
    };
  }

  protected add(cpu: number, t: SimTask): void {
    this.rq[cpu]!.push(t);
    this.sumKey[cpu] = this.sumKey[cpu]! + (t.vruntime - this.minVr[cpu]!);
  }

  protected remove(cpu: number, t: SimTask): void {
    this.rq[cpu]!.remove(t);
    this.sumKey[cpu] = this.sumKey[cpu]! - (t.vruntime - this.minVr[cpu]!);
  }

  /** avg_vruntime with `extra` (curr) counted. */
  avgVruntime(cpu: number, extra: SimTask | null): Ns {
    const min = this.minVr[cpu]!;
    let avg = this.sumKey[cpu]!;
    let load = this.rq[cpu]!.size;
    if (extra) {
      avg += extra.vruntime - min;
      load += 1;
    }
    if (load > 0) {
      if (avg < 0) avg -= load - 1;
      avg = Math.trunc(avg / load);
    }
    return min + avg;
  }

  /** entity_eligible, with `extra` (curr) counted in the average. */
  eligible(cpu: number, se: SimTask, extra: SimTask | null): boolean {
    const min = this.minVr[cpu]!;
    let avg = this.sumKey[cpu]!;
    let load = this.rq[cpu]!.size;
    if (extra) {
      avg += extra.vruntime - min;
      load += 1;
    }
    return avg >= (se.vruntime - min) * load;
  }

  protected updateMin(cpu: number): void {
    const curr = this.m.curr(cpu);
    let v = this.minVr[cpu]!;
    const first = this.rq[cpu]!.peek();
    const left = first ? first.vruntime : Infinity;
    if (curr) v = curr.vruntime;
    if (left !== Infinity) v = curr ? Math.min(v, left) : left;
    const old = this.minVr[cpu]!;
    if (v > old) {
      // avg_vruntime_update: keys are relative to min_vruntime.
      this.sumKey[cpu] = this.sumKey[cpu]! - this.rq[cpu]!.size * (v - old);
      this.minVr[cpu] = v;
    }
  }

  /** update_entity_lag: vlag = V − v, clamped to ±max(2·slice, TICK_NSEC). */
  protected saveLag(cpu: number, t: SimTask, curr: SimTask | null): void {
    const extra = curr && curr !== t ? curr : null;
    // `t` is counted in the average: queued (in sumKey) or curr (passed as extra).
    const avg = t.qpos >= 0 ? this.avgVruntime(cpu, extra) : this.avgVruntime(cpu, t);
    const limit = Math.max(2 * this.baseSliceNs, this.m.tickNs);
    let lag = avg - t.vruntime;
    if (lag > limit) lag = limit;
    else if (lag < -limit) lag = -limit;
    t.vlag = lag;
  }

  selectCpu(t: SimTask, kind: 'new' | 'wakeup'): number {
    return kind === 'new' ? this.m.placeNew(t) : this.m.placeWakeup(t);
  }

  enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void {
    this.m.updateCurr(cpu);
    const curr = this.m.curr(cpu);
    // place_entity
    const V = this.avgVruntime(cpu, curr);
    let lag = 0;
    const nr = this.nrRunning(cpu);
    if (nr > 0) {
      const load = nr;
      lag = Math.trunc((t.vlag * (load + 1)) / load);
    }
    if (kind === 'new') lag = 0;
    t.vruntime = V - lag;
    const vslice = kind === 'new' ? Math.floor(this.baseSliceNs / 2) : this.baseSliceNs;
    t.deadline = t.vruntime + vslice;
    t.cpu = cpu;
    this.add(cpu, t);
  }

  /** pick_eevdf with `curr` the running (or just put back) task, or null. */
  protected pickEevdf(cpu: number, curr: SimTask | null, currQueued: boolean): SimTask | null {
    const items = this.rq[cpu]!.items;
    const extra = currQueued ? null : curr;
    const nr = items.length + (extra ? 1 : 0);
    if (nr === 0) return null;
    if (nr === 1) return extra ?? items[0]!;
    let c = curr;
    if (c && !this.eligible(cpu, c, extra)) c = null;
    if (c && c.vlag === c.deadline) return c; // RUN_TO_PARITY
    let best: SimTask | null = null;
    for (let i = 0; i < items.length; i++) {
      const t = items[i]!;
      if (t === curr) continue;
      if (!this.eligible(cpu, t, extra)) continue;
      if (!best || t.deadline < best.deadline || (t.deadline === best.deadline && t.id < best.id)) best = t;
    }
    if (!best || (c && best.deadline > c.deadline)) best = c;
    if (!best) {
      best = items[0] ?? curr;
    }
    return best;
  }

  wantsPreempt(cpu: number, curr: SimTask, t: SimTask): boolean {
    if (curr === t) return false;
    this.m.updateCurr(cpu);
    return this.pickEevdf(cpu, curr, false) === t;
  }

  putPrev(cpu: number, t: SimTask): void {
    this.add(cpu, t);
  }

  pickNext(cpu: number, prev: SimTask | null): SimTask | null {
    const t = this.pickEevdf(cpu, prev, true);
    if (t) this.remove(cpu, t);
    return t;
  }

  onSwitchIn(_cpu: number, t: SimTask): void {
    // set_next_entity: stash the deadline at pick time for RUN_TO_PARITY.
    t.vlag = t.deadline;
  }

  account(cpu: number, t: SimTask, deltaNs: Ns): void {
    t.vruntime += deltaNs;
    // update_deadline
    if (t.vruntime - t.deadline >= 0) {
      t.deadline = t.vruntime + this.baseSliceNs;
      if (this.nrRunning(cpu) > 1) this.m.resched(cpu);
    }
    this.updateMin(cpu);
  }

  tick(_cpu: number, _curr: SimTask): boolean {
    // entity_tick only runs update_curr (done by the machine); preemption comes from
    // update_deadline.
    return false;
  }

  dequeueCurr(cpu: number, t: SimTask, _why: 'sleep' | 'exit'): void {
    this.saveLag(cpu, t, null);
    this.updateMin(cpu);
  }
}
