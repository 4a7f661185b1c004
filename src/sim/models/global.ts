import type { Ns } from '../../core/index.js';
import { RR_TIMESLICE_NS } from '../linux.js';
import type { EnqueueKind, MachineApi, SchedulerModel } from '../model.js';
import { IndexedHeap } from '../runqueue.js';
import type { SimTask } from '../task.js';

/**
 * Models with one machine-wide queue: FIFO and RR (Linux's RT classes, whose push/pull
 * balancing keeps the highest-priority runnable tasks on CPUs, i.e. global scheduling) and the
 * SRPT oracle. They are work-conserving machine-wide: no CPU idles while the queue holds work.
 */
abstract class GlobalModel implements SchedulerModel {
  abstract readonly name: string;
  protected m!: MachineApi;
  protected readonly q: IndexedHeap;
  protected seq = 0;

  constructor(readonly ncpus: number) {
    this.q = new IndexedHeap((a, b) => this.before(a, b));
  }

  protected abstract before(a: SimTask, b: SimTask): boolean;

  attach(m: MachineApi): void {
    this.m = m;
  }

  /** An idle CPU, preferring the task's previous one; -1 if none. */
  protected idleCpu(t: SimTask): number {
    if (t.cpu >= 0 && this.m.curr(t.cpu) === null) return t.cpu;
    for (let i = 0; i < this.ncpus; i++) if (this.m.curr(i) === null) return i;
    return -1;
  }

  selectCpu(t: SimTask, _kind: 'new' | 'wakeup'): number {
    const i = this.idleCpu(t);
    return i >= 0 ? i : Math.max(0, t.cpu);
  }

  enqueue(_cpu: number, t: SimTask, _kind: EnqueueKind): void {
    t.key = ++this.seq;
    this.q.push(t);
  }

  wantsPreempt(_cpu: number, _curr: SimTask, _t: SimTask): boolean {
    return false;
  }

  putPrev(_cpu: number, t: SimTask): void {
    this.q.push(t);
  }

  pickNext(_cpu: number, _prev: SimTask | null): SimTask | null {
    return this.q.pop() ?? null;
  }

  account(_cpu: number, _t: SimTask, _deltaNs: Ns): void {}

  tick(_cpu: number, _curr: SimTask): boolean {
    return false;
  }

  dequeueCurr(_cpu: number, _t: SimTask, _why: 'sleep' | 'exit'): void {}

  queuedTotal(): number {
    return this.q.size;
  }
  queuedOn(_cpu: number): number {
    return -1;
  }
}

/** SCHED_FIFO: run until block or exit; wakers go to the tail; a preempted task keeps the head. */
export class FifoModel extends GlobalModel {
  readonly name = 'fifo';
  protected before(a: SimTask, b: SimTask): boolean {
    return a.key < b.key;
  }
  override putPrev(_cpu: number, t: SimTask): void {
    t.key = -++this.seq; // head of the list
    this.q.push(t);
  }
}

/**
 * SCHED_RR: FIFO plus a 100 ms timeslice counted in ticks; when it runs out the task goes to
 * the tail if anything else waits (task_tick_rt). The slice left survives blocking.
 */
export class RrModel extends GlobalModel {
  readonly name = 'rr';
  private sliceTicks = 1;
  override attach(m: MachineApi): void {
    super.attach(m);
    this.sliceTicks = Math.max(1, Math.round(RR_TIMESLICE_NS / m.tickNs));
  }
  protected before(a: SimTask, b: SimTask): boolean {
    return a.key < b.key;
  }
  override enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void {
    if (kind === 'new') t.tag = this.sliceTicks;
    super.enqueue(cpu, t, kind);
  }
  override tick(_cpu: number, curr: SimTask): boolean {
    if (--curr.tag > 0) return false;
    curr.tag = this.sliceTicks;
    return this.q.size > 0; // requeue at the tail (putPrev gives a fresh sequence number)
  }
  override putPrev(_cpu: number, t: SimTask): void {
    t.key = ++this.seq;
    this.q.push(t);
  }
}

/**
 * SRPT oracle: knows every task's remaining CPU demand; the C tasks with the least remaining
 * demand run, and an arrival or wake-up preempts at once the running task with the most.
 */
export class SrptModel extends GlobalModel {
  readonly name = 'srpt';
  protected before(a: SimTask, b: SimTask): boolean {
    return a.remainingCpuNs < b.remainingCpuNs || (a.remainingCpuNs === b.remainingCpuNs && a.id < b.id);
  }
  override selectCpu(t: SimTask, _kind: 'new' | 'wakeup'): number {
    const i = this.idleCpu(t);
    if (i >= 0) return i;
    let worst = 0;
    let worstRem = -1;
    for (let c = 0; c < this.ncpus; c++) {
      const r = this.m.remainingCpu(this.m.curr(c)!);
      if (r > worstRem) {
        worstRem = r;
        worst = c;
      }
    }
    return worst;
  }
  override wantsPreempt(_cpu: number, curr: SimTask, t: SimTask): boolean {
    return t.remainingCpuNs < this.m.remainingCpu(curr);
  }
}
