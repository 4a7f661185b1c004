import type { Ns } from '../../core/index.js';
import type { EnqueueKind, LoadBalanceOps, MachineApi, SchedulerModel } from '../model.js';
import { IndexedHeap } from '../runqueue.js';
import type { SimTask } from '../task.js';
import { CfsModel } from './cfs.js';

const LEVEL_FIFO = 1;
const LEVEL_CFS = 2;

/** SFS knobs (SFS artifact `sfs.go`, docs/artifact-algorithm.md §6.6). */
export interface SfsParams {
  /** Initial FIFO slice S. */
  initialSliceNs: Ns;
  /** Floor of S. */
  minSliceNs: Ns;
  /** Inter-arrival gaps per S update. */
  window: number;
  /** A job that waited more than bypass × S for the FIFO level goes straight to CFS (0 = off). */
  bypassFactor: number;
}

export const SFS_DEFAULTS: SfsParams = {
  initialSliceNs: 20_000_000,
  minSliceNs: 6_000_000,
  window: 200,
  bypassFactor: 3,
};

/**
 * SFS (SC'22) as the ALPS paper describes it and its artifact implements it: a machine-wide
 * level-1 FIFO (SCHED_FIFO, so it preempts CFS work on any CPU) where each new job may run for
 * a budget S, then is demoted to level 2, Linux CFS (the CfsModel, per-CPU runqueues and
 * balancing). S = max(6 ms, mean inter-arrival gap of the last 200 arrivals × CPUs), recomputed
 * every 200 arrivals. A job blocking in level 1 keeps its unused budget and re-enters level 1
 * when it wakes; a job that waited more than 3S for level 1 bypasses it.
 */
export class SfsModel implements SchedulerModel {
  readonly name = 'sfs';
  readonly lb: LoadBalanceOps;
  private m!: MachineApi;
  private readonly cfs: CfsModel;
  private readonly fifo: IndexedHeap;
  private seq = 0;
  private readonly timerGen: Int32Array;
  sliceNs: Ns;
  private lastArrival = -1;
  private gapSum = 0;
  private gaps = 0;

  constructor(
    readonly ncpus: number,
    readonly params: SfsParams = SFS_DEFAULTS,
    baseSliceNs?: Ns,
  ) {
    this.cfs = new CfsModel(ncpus, baseSliceNs);
    this.fifo = new IndexedHeap((a, b) => a.key < b.key);
    this.timerGen = new Int32Array(ncpus);
    this.sliceNs = params.initialSliceNs;
    const inner = this.cfs.lb;
    this.lb = {
      nrRunning: (cpu) => this.cfs.queuedOn(cpu) + (this.m.curr(cpu) ? 1 : 0),
      migratable: inner.migratable,
      detach: inner.detach,
      attach: inner.attach,
    };
  }

  attach(m: MachineApi): void {
    this.m = m;
    // CFS sees only its own tasks as curr (an RT task is not on the cfs_rq).
    this.cfs.attach({
      get ncpus() { return m.ncpus; },
      get now() { return m.now; },
      get tickNs() { return m.tickNs; },
      curr: (cpu) => {
        const c = m.curr(cpu);
        return c && c.tag === LEVEL_CFS ? c : null;
      },
      resched: (cpu) => m.resched(cpu),
      updateCurr: (cpu) => m.updateCurr(cpu),
      post: (at, cpu, tag) => m.post(at, cpu, tag),
      remainingCpu: (t) => m.remainingCpu(t),
      task: (i) => m.task(i),
      idleSince: (cpu) => m.idleSince(cpu),
      placeNew: (t) => m.placeNew(t),
      placeWakeup: (t) => m.placeWakeup(t),
    });
  }

  onArrival(t: SimTask): void {
    const now = this.m.now;
    if (this.lastArrival >= 0) {
      this.gapSum += now - this.lastArrival;
      this.gaps++;
    }
    this.lastArrival = now;
    if (this.gaps >= this.params.window) {
      // S = mean gap × CPUs in whole ms (the artifact's integer-ms arithmetic), floored.
      const s = Math.trunc(((this.gapSum / this.gaps) * this.ncpus) / 1e6) * 1e6;
      this.sliceNs = Math.max(this.params.minSliceNs, s);
      this.gapSum = 0;
      this.gaps = 0;
    }
    t.tag = LEVEL_FIFO;
    t.budgetNs = this.sliceNs;
  }

  /** find_lowest_rq for an RT task: an idle CPU, else one running CFS work, prev first. */
  private rtCpu(t: SimTask): number {
    const n = this.ncpus;
    const prev = t.cpu >= 0 ? t.cpu : 0;
    if (this.m.curr(prev) === null && this.cfs.queuedOn(prev) === 0) return prev;
    for (let k = 0; k < n; k++) {
      const i = (prev + k) % n;
      if (this.m.curr(i) === null && this.cfs.queuedOn(i) === 0) return i;
    }
    for (let k = 0; k < n; k++) {
      const i = (prev + k) % n;
      const c = this.m.curr(i);
      if (c === null || c.tag === LEVEL_CFS) return i;
    }
    return prev;
  }

  selectCpu(t: SimTask, kind: 'new' | 'wakeup'): number {
    if (t.tag === LEVEL_FIFO) return this.rtCpu(t);
    return this.cfs.selectCpu(t, kind);
  }

  enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void {
    if (t.tag === LEVEL_FIFO) {
      t.key = ++this.seq;
      t.cpu = cpu;
      this.fifo.push(t);
    } else {
      this.cfs.enqueue(cpu, t, kind);
    }
  }

  wantsPreempt(cpu: number, curr: SimTask, t: SimTask): boolean {
    if (t.tag === LEVEL_FIFO) return curr.tag === LEVEL_CFS;
    if (curr.tag === LEVEL_FIFO) return false;
    return this.cfs.wantsPreempt(cpu, curr, t);
  }

  /** The job used its level-1 budget: it becomes SCHED_NORMAL on this CPU (switched_to_fair). */
  private demote(cpu: number, t: SimTask, runningNow: boolean): void {
    t.tag = LEVEL_CFS;
    t.budgetNs = 0;
    if (runningNow) {
      // switched_to_fair: joins this CPU's cfs_rq at its min_vruntime (a bypassing job that
      // never ran is enqueued as a new task instead, with START_DEBIT).
      t.vruntime = this.cfs.minVruntime(cpu);
      t.cpu = cpu;
    }
  }

  putPrev(cpu: number, t: SimTask): void {
    if (t.tag === LEVEL_FIFO) {
      if (t.budgetNs <= 0) {
        this.demote(cpu, t, true);
        this.cfs.putPrev(cpu, t);
      } else {
        t.key = -++this.seq; // preempted RT task keeps the head
        this.fifo.push(t);
      }
    } else {
      this.cfs.putPrev(cpu, t);
    }
  }

  pickNext(cpu: number, prev: SimTask | null): SimTask | null {
    const now = this.m.now;
    const bypass = this.params.bypassFactor * this.sliceNs;
    let head = this.fifo.peek();
    while (head) {
      this.fifo.pop();
      if (this.params.bypassFactor > 0 && head.firstWaitNs < 0 && now - head.arrivalNs > bypass) {
        this.demote(cpu, head, false);
        this.cfs.enqueue(cpu, head, 'new');
        head = this.fifo.peek();
        continue;
      }
      return head;
    }
    return this.cfs.pickNext(cpu, prev && prev.tag === LEVEL_CFS ? prev : null);
  }

  onSwitchIn(cpu: number, t: SimTask): void {
    const g = this.timerGen[cpu]! + 1;
    this.timerGen[cpu] = g;
    if (t.tag === LEVEL_FIFO) this.m.post(t.runFromNs + t.budgetNs, cpu, g);
  }

  onEvent(cpu: number, tag: number): void {
    if (tag !== this.timerGen[cpu]) return;
    const c = this.m.curr(cpu);
    if (!c || c.tag !== LEVEL_FIFO) return;
    this.m.updateCurr(cpu);
    if (c.budgetNs <= 0) this.m.resched(cpu);
    else this.m.post(this.m.now + c.budgetNs, cpu, tag);
  }

  account(cpu: number, t: SimTask, deltaNs: Ns): void {
    if (t.tag === LEVEL_FIFO) t.budgetNs -= deltaNs;
    else this.cfs.account(cpu, t, deltaNs);
  }

  tick(cpu: number, curr: SimTask): boolean {
    if (curr.tag === LEVEL_FIFO) return false;
    return this.cfs.tick(cpu, curr);
  }

  dequeueCurr(cpu: number, t: SimTask, why: 'sleep' | 'exit'): void {
    const g = this.timerGen[cpu]! + 1;
    this.timerGen[cpu] = g;
    if (t.tag === LEVEL_CFS) this.cfs.dequeueCurr(cpu, t, why);
  }

  queuedTotal(): number {
    return this.fifo.size + this.cfs.queuedTotal();
  }
  queuedOn(cpu: number): number {
    return this.cfs.queuedOn(cpu) + this.fifo.size;
  }
}
