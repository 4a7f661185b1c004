/**
 * The machine's event queue: a binary min-heap on (time, sequence) kept in parallel typed
 * arrays, so pushing and popping allocate nothing once the arrays have grown. The sequence
 * number makes ties deterministic (first pushed, first popped).
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private kind: Uint8Array;
  private a: Int32Array;
  private b: Int32Array;
  private n = 0;
  private nextSeq = 0;

  /** Fields of the last popped event. */
  popTime = 0;
  popKind = 0;
  popA = 0;
  popB = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.a = new Int32Array(capacity);
    this.b = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.time[0]! : Infinity;
  }

  push(time: number, kind: number, a: number, b: number): void {
    if (this.n === this.time.length) this.grow();
    const s = this.nextSeq++;
    let i = this.n++;
    const T = this.time, S = this.seq, K = this.kind, A = this.a, B = this.b;
    // Sift up: move parents down until the slot fits.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = T[p]!;
      if (pt < time || (pt === time && S[p]! < s)) break;
      T[i] = pt; S[i] = S[p]!; K[i] = K[p]!; A[i] = A[p]!; B[i] = B[p]!;
      i = p;
    }
    T[i] = time; S[i] = s; K[i] = kind; A[i] = a; B[i] = b;
  }

  /** Remove the earliest event into popTime/popKind/popA/popB. Returns false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    const T = this.time, S = this.seq, K = this.kind, A = this.a, B = this.b;
    this.popTime = T[0]!; this.popKind = K[0]!; this.popA = A[0]!; this.popB = B[0]!;
    const last = --this.n;
    if (last === 0) return true;
    const t = T[last]!, s = S[last]!, k = K[last]!, a = A[last]!, b = B[last]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const r = c + 1;
      if (r < last && (T[r]! < T[c]! || (T[r] === T[c] && S[r]! < S[c]!))) c = r;
      if (t < T[c]! || (t === T[c] && s < S[c]!)) break;
      T[i] = T[c]!; S[i] = S[c]!; K[i] = K[c]!; A[i] = A[c]!; B[i] = B[c]!;
      i = c;
    }
    T[i] = t; S[i] = s; K[i] = k; A[i] = a; B[i] = b;
    return true;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const k = new Uint8Array(cap); k.set(this.kind); this.kind = k;
    const a = new Int32Array(cap); a.set(this.a); this.a = a;
    const b = new Int32Array(cap); b.set(this.b); this.b = b;
  }
}
