import type { Ns } from '../../core/index.js';
import { fairTunables, type FairTunables } from '../linux.js';
import type { MachineApi } from '../model.js';
import { IndexedHeap } from '../runqueue.js';
import type { SimTask } from '../task.js';

/**
 * What CFS and EEVDF share: one vruntime-ordered runqueue per CPU (a heap, the rbtree's
 * leftmost in O(1)), each with its min_vruntime, the fair tunables for the machine's size, and
 * the runqueue counts the machine and its load balancer ask for. The policies differ in what
 * they do with them, which stays in the subclasses.
 */
export abstract class FairRunqueues {
  protected m!: MachineApi;
  protected readonly rq: IndexedHeap[];
  protected readonly minVr: Float64Array;
  readonly tun: FairTunables;

  constructor(
    readonly ncpus: number,
    baseSliceNs: Ns | undefined,
    before: (a: SimTask, b: SimTask) => boolean,
  ) {
    this.tun = fairTunables(ncpus, baseSliceNs);
    this.rq = Array.from({ length: ncpus }, () => new IndexedHeap(before));
    this.minVr = new Float64Array(ncpus);
  }

  attach(m: MachineApi): void {
    this.m = m;
  }

  nrRunning(cpu: number): number {
    return this.rq[cpu]!.size + (this.m.curr(cpu) ? 1 : 0);
  }

  queuedOn(cpu: number): number {
    return this.rq[cpu]!.size;
  }

  queuedTotal(): number {
    let s = 0;
    for (const q of this.rq) s += q.size;
    return s;
  }

  /** detach_tasks' candidates: the queued tasks, least recently run first (cfs_tasks' tail). */
  protected migratable(cpu: number, out: SimTask[]): void {
    for (const t of this.rq[cpu]!.items) out.push(t);
    out.sort((a, b) => a.lru - b.lru);
  }
}
