import type { FuncId, Ns, Policy, PolicyEntry } from '../../core/index.js';
import { policyIndex } from '../../core/index.js';
import type { EnqueueKind } from '../model.js';
import type { SimTask } from '../task.js';
import { CfsModel } from './cfs.js';

/**
 * ALPS in the kernel (paper §5.3, artifact hooks with the recommended fixes of
 * docs/facts/alps-artifact-algorithm.md §5.4–5.5):
 *
 * - ordering hook in entity_before(): lexicographic (rank, vruntime); a function without a
 *   policy entry has rank 0 and so runs before ranked functions, as the kernel map lookup
 *   returning 0 makes it. Wake-up and tick preemption still compare raw vruntime, and the
 *   leftmost entity (by the hooked order) feeds check_preempt_tick and min_vruntime;
 * - time-slice hook in __schedule(): a preempted function task whose learned slice exceeds
 *   the CPU it has had since it was last picked keeps the CPU (need_resched is cleared), so
 *   after each pick it cannot be preempted before it has run its learned slice. Blocking and
 *   exit still switch. The check happens at the scheduling points CFS produces (ticks and
 *   wake-ups), hence tick granularity.
 */
export class AlpsModel extends CfsModel {
  override readonly name: string = 'alps';
  private entries = new Map<FuncId, PolicyEntry>();

  protected override entityBefore(a: SimTask, b: SimTask): boolean {
    if (a.rank !== b.rank) return a.rank < b.rank;
    return a.vruntime < b.vruntime || (a.vruntime === b.vruntime && a.id < b.id);
  }

  private refresh(t: SimTask): void {
    const e = this.entries.get(t.funcId);
    t.rank = e ? e.rank : 0;
    t.learnedSliceNs = e ? e.sliceNs : 0;
  }

  override enqueue(cpu: number, t: SimTask, kind: EnqueueKind): void {
    this.refresh(t);
    super.enqueue(cpu, t, kind);
  }

  keepPrev(_cpu: number, prev: SimTask): boolean {
    const s: Ns = prev.learnedSliceNs;
    return s > 0 && prev.sumExecNs - prev.prevSumExecNs < s;
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
