/**
 * The agent's runqueue: an indexed binary min-heap of task handles ordered by
 * (rank, key, arrival sequence). `key` is the fair virtual runtime (ALPS, CFS) or the enqueue
 * sequence (FIFO). Handles are small integers, so positions live in a typed array: O(log n)
 * push, pop and remove-by-handle, no allocation per operation.
 */
export class RunQueue {
  private heap: Int32Array;
  private pos: Int32Array; // handle -> index in heap, -1 when absent
  /** rank, key, seq of handle h at e[h * 4 ..]: one cache line per comparison, not three. */
  private e: Float64Array;
  private n = 0;
  private counter = 0;

  constructor(initialHandles = 1024) {
    this.heap = new Int32Array(initialHandles);
    this.pos = new Int32Array(initialHandles).fill(-1);
    this.e = new Float64Array(initialHandles * 4);
  }

  get size(): number {
    return this.n;
  }

  has(h: number): boolean {
    return h < this.pos.length && (this.pos[h] as number) >= 0;
  }

  /** Handle at the head, or -1. */
  peek(): number {
    return this.n > 0 ? (this.heap[0] as number) : -1;
  }

  rankOf(h: number): number {
    return this.e[h * 4] as number;
  }
  keyOf(h: number): number {
    return this.e[h * 4 + 1] as number;
  }

  /** Insert (or re-key) `h`. `front` puts it ahead of equal (rank, key) peers. */
  push(h: number, rank: number, key: number, front = false): void {
    this.grow(h);
    if (this.has(h)) this.remove(h);
    const e = this.e;
    e[h * 4] = rank;
    e[h * 4 + 1] = key;
    e[h * 4 + 2] = front ? -++this.counter : ++this.counter;
    const i = this.n++;
    if (i >= this.heap.length) {
      const bigger = new Int32Array(this.heap.length * 2);
      bigger.set(this.heap);
      this.heap = bigger;
    }
    this.heap[i] = h;
    this.pos[h] = i;
    this.up(i);
  }

  pop(): number {
    if (this.n === 0) return -1;
    const top = this.heap[0] as number;
    this.removeAt(0);
    return top;
  }

  remove(h: number): boolean {
    if (!this.has(h)) return false;
    this.removeAt(this.pos[h] as number);
    return true;
  }

  /** True when a's (rank, key) orders strictly before (rank, key). */
  before(h: number, rank: number, key: number): boolean {
    const ra = this.e[h * 4] as number;
    return ra < rank || (ra === rank && (this.e[h * 4 + 1] as number) < key);
  }

  private less(a: number, b: number): boolean {
    const e = this.e;
    const ra = e[a * 4] as number;
    const rb = e[b * 4] as number;
    if (ra !== rb) return ra < rb;
    const ka = e[a * 4 + 1] as number;
    const kb = e[b * 4 + 1] as number;
    if (ka !== kb) return ka < kb;
    return (e[a * 4 + 2] as number) < (e[b * 4 + 2] as number);
  }

  private removeAt(i: number): void {
    const h = this.heap[i] as number;
    this.pos[h] = -1;
    const last = --this.n;
    if (i !== last) {
      const moved = this.heap[last] as number;
      this.heap[i] = moved;
      this.pos[moved] = i;
      this.down(i);
      this.up(this.pos[moved] as number);
    }
  }

  private up(i: number): void {
    const heap = this.heap;
    const h = heap[i] as number;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ph = heap[p] as number;
      if (!this.less(h, ph)) break;
      heap[i] = ph;
      this.pos[ph] = i;
      i = p;
    }
    heap[i] = h;
    this.pos[h] = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const h = heap[i] as number;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      let c = l;
      if (r < this.n && this.less(heap[r] as number, heap[l] as number)) c = r;
      const ch = heap[c] as number;
      if (!this.less(ch, h)) break;
      heap[i] = ch;
      this.pos[ch] = i;
      i = c;
    }
    heap[i] = h;
    this.pos[h] = i;
  }

  private grow(h: number): void {
    if (h < this.pos.length) return;
    let len = this.pos.length;
    while (len <= h) len *= 2;
    const pos = new Int32Array(len).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
    const e = new Float64Array(len * 4);
    e.set(this.e);
    this.e = e;
  }
}
