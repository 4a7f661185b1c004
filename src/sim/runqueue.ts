import type { SimTask } from './task.js';

/**
 * A min-heap of tasks under a model-given order, with each task's position kept in
 * `task.qpos` so any task can be removed in O(log n) (migration, dequeue). It stands in for
 * the kernel's rbtree: the models only ever need the leftmost entity and arbitrary removal.
 */
export class IndexedHeap {
  readonly items: SimTask[] = [];

  constructor(private readonly less: (a: SimTask, b: SimTask) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): SimTask | undefined {
    return this.items[0];
  }

  push(t: SimTask): void {
    this.items.push(t);
    t.qpos = this.items.length - 1;
    this.up(t.qpos);
  }

  pop(): SimTask | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  remove(t: SimTask): void {
    const i = t.qpos;
    const items = this.items;
    if (i < 0 || items[i] !== t) throw new Error(`task ${t.id} is not in this queue`);
    const last = items.pop()!;
    t.qpos = -1;
    if (last === t) return;
    items[i] = last;
    last.qpos = i;
    this.down(i);
    this.up(last.qpos);
  }

  /** Re-establish the order after keys changed (a new policy). */
  rebuild(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): void {
    const items = this.items;
    const t = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = items[p]!;
      if (!this.less(t, pt)) break;
      items[i] = pt;
      pt.qpos = i;
      i = p;
    }
    items[i] = t;
    t.qpos = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const t = items[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && this.less(items[r]!, items[c]!)) c = r;
      if (!this.less(items[c]!, t)) break;
      items[i] = items[c]!;
      items[i]!.qpos = i;
      i = c;
    }
    items[i] = t;
    t.qpos = i;
  }
}
