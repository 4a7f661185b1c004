/**
 * The ghOSt message queue decoded in JS over its zero-copy mapping (client.queueView): the same
 * checks and the same 64-byte records as the native decoder (native/ghost/queue.cc `drain`), so
 * an agent's drain costs no N-API call. Only gtids the decoder has not seen yet go to the native
 * task table, batched (`resolveBound`, once per drain that meets a new task), because the handles
 * must stay the client's: commits, SW_FREE and internGtid() name tasks by the same handles.
 *
 * Two ways to consume the queue: `drain()` writes the records (tests, tools, the conformance
 * against the native decoder), and `begin()` / `next()` hand the caller each admitted message in
 * place — its payload offset in the mapping plus type, seqnum and handle — with typed field
 * accessors (`runtimeAt`, `wakeupDeferrableAt`, ...) so the agent's hot loop neither writes nor
 * reads back a 64-byte record per message, and every ABI offset stays in this file.
 *
 * Nothing in the mapping is trusted: indices are checked against nelems, every length against the
 * contiguous space and the ABI's payload size. Nothing is allocated per message; the gtid map and
 * the per-handle seqnum table grow (rarely) by doubling.
 */
import { BIND_STRIDE, DecFlag, MsgType, type MessageBatch } from './ghost.js';

/** u32 per lookup: gtidLo, gtidHi, isNew, swId, swIndex, out handle (native kLookupStride). */
export const LOOKUP_STRIDE = 6;

const RING_OFFSET = 64;
const SLOTS_OFFSET = 76;
const MAX_ELEMS = 65536;
const TWO32 = 4294967296;
/** Host byte order (the mapping's): which half of a u32 load is the first u16. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Type written over a record resolvePending() drops (never a message type). */
const DROPPED = 0xffff;
const u16At = (u16: Uint16Array, rec: number): number => u16[rec * 32] as number;
const u16Set = (u16: Uint16Array, rec: number, v: number): void => {
  u16[rec * 32] = v;
};

/**
 * Handles the decoder may give new tasks without asking the native task table (bindBuffers'
 * pool / binds, layouts in native/ghost/tasks.h): `handles[0]` are available at
 * `handles[1 ..]`, taken from the top; each one given is appended to `binds` (count at [0], then
 * BIND_STRIDE u32: handle, gtid lo, gtid hi, sw region id, sw index). The client binds them before
 * anything reads its table and refills the pool, so commits and SW_FREE name these handles as if
 * TASK_NEW had been resolved natively. Empty pool or full binds: the decoder asks (resolve).
 */
export interface HandlePool {
  handles: Int32Array;
  binds: Uint32Array;
}

/** Counters of what the decoder refused or noticed (native DrainStats, same meaning). */
export interface QueueDecoderStats {
  messages: number;
  nops: number;
  bad: number;
  staleSeq: number;
  unknownTask: number;
  corrupt: number;
}

/** Payload bytes of `type` under `abi`, or -1 for an unknown type (abi.h payloadSize). */
export function payloadSize(abi: number, type: number): number {
  switch (type) {
    case MsgType.NOP:
      return 0;
    case MsgType.TASK_DEAD:
      return abi < 89 ? 8 : 16;
    case MsgType.TASK_BLOCKED:
    case MsgType.TASK_WAKEUP:
    case MsgType.TASK_SWITCHTO:
    case MsgType.TASK_ON_CPU:
      return 32;
    case MsgType.TASK_NEW:
      return abi < 88 ? 40 : 48;
    case MsgType.TASK_PREEMPT:
    case MsgType.TASK_YIELD:
      return 40;
    case MsgType.TASK_DEPARTED:
    case MsgType.CPU_TIMER_EXPIRED:
      return 24;
    case MsgType.TASK_AFFINITY_CHANGED:
      return 8;
    case MsgType.TASK_PRIORITY_CHANGED:
    case MsgType.TASK_LATCH_FAILURE:
    case MsgType.CPU_NOT_IDLE:
      return 16;
    case MsgType.CPU_TICK:
      return abi < 90 ? 4 : 8;
    case MsgType.CPU_AVAILABLE:
    case MsgType.CPU_BUSY:
    case MsgType.CPU_AGENT_BLOCKED:
    case MsgType.CPU_AGENT_WAKEUP:
      return 4;
    default:
      return -1;
  }
}

/**
 * gtid (two u32 halves) -> handle, and the last seqnum accepted for it; open addressing, linear
 * probing, backward-shift deletion. Slot i is s[i * 4 ..] = lo, hi, handle (0 = empty: handles are
 * never 0), seqnum (0: none yet): admitting a message reads one cache line, not a second table.
 */
export class GtidMap {
  private s = new Uint32Array(1024 * 4);
  private cap = 1024;
  private size = 0;

  private slot(lo: number, hi: number, mask: number): number {
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & mask;
  }

  get(lo: number, hi: number): number {
    const i = this.index(lo, hi);
    return i < 0 ? 0 : (this.s[i * 4 + 2] as number);
  }

  /** Slot of the gtid, or -1; valid until the next set() or delete(). */
  index(lo: number, hi: number): number {
    const s = this.s;
    const mask = this.cap - 1;
    for (let i = this.slot(lo, hi, mask); ; i = (i + 1) & mask) {
      if (s[i * 4 + 2] === 0) return -1;
      if (s[i * 4] === lo && s[i * 4 + 1] === hi) return i;
    }
  }
  handleAt(i: number): number {
    return this.s[i * 4 + 2] as number;
  }
  seqAt(i: number): number {
    return this.s[i * 4 + 3] as number;
  }
  setSeqAt(i: number, seq: number): void {
    this.s[i * 4 + 3] = seq;
  }

  set(lo: number, hi: number, h: number): void {
    if ((this.size + 1) * 2 > this.cap) this.grow();
    const s = this.s;
    const mask = this.cap - 1;
    for (let i = this.slot(lo, hi, mask); ; i = (i + 1) & mask) {
      if (s[i * 4 + 2] === 0) {
        s[i * 4] = lo;
        s[i * 4 + 1] = hi;
        s[i * 4 + 2] = h;
        s[i * 4 + 3] = 0;
        this.size++;
        return;
      }
      if (s[i * 4] === lo && s[i * 4 + 1] === hi) {
        // Another handle for the gtid: its seqnums start afresh.
        if (s[i * 4 + 2] !== h) s[i * 4 + 3] = 0;
        s[i * 4 + 2] = h;
        return;
      }
    }
  }

  delete(lo: number, hi: number): void {
    const s = this.s;
    const mask = this.cap - 1;
    let i = this.slot(lo, hi, mask);
    for (; ; i = (i + 1) & mask) {
      if (s[i * 4 + 2] === 0) return;
      if (s[i * 4] === lo && s[i * 4 + 1] === hi) break;
    }
    // Backward shift: move later members of the probe run into the hole so lookups stay exact.
    for (let j = (i + 1) & mask; s[j * 4 + 2] !== 0; j = (j + 1) & mask) {
      const home = this.slot(s[j * 4] as number, s[j * 4 + 1] as number, mask);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        s[i * 4] = s[j * 4] as number;
        s[i * 4 + 1] = s[j * 4 + 1] as number;
        s[i * 4 + 2] = s[j * 4 + 2] as number;
        s[i * 4 + 3] = s[j * 4 + 3] as number;
        i = j;
      }
    }
    s[i * 4 + 2] = 0;
    this.size--;
  }

  get count(): number {
    return this.size;
  }

  private grow(): void {
    const old = this.s;
    const oldCap = this.cap;
    this.cap = oldCap * 2;
    this.s = new Uint32Array(this.cap * 4);
    this.size = 0;
    for (let i = 0; i < oldCap; i++) {
      if (old[i * 4 + 2] === 0) continue;
      this.set(old[i * 4] as number, old[i * 4 + 1] as number, old[i * 4 + 2] as number);
      this.setSeqAt(this.index(old[i * 4] as number, old[i * 4 + 1] as number), old[i * 4 + 3] as number);
    }
  }
}

export class QueueDecoder {
  readonly stats: QueueDecoderStats = { messages: 0, nops: 0, bad: 0, staleSeq: 0, unknownTask: 0, corrupt: 0 };
  private readonly ring: Uint32Array; // head, tail, overflow
  /** The mapping in host byte order (the kernel's, and the emulator's); every field is aligned. */
  private readonly q8: Uint8Array;
  /**
   * x86-64 (TSO: loads are not reordered with loads, nor stores with earlier loads; ghOSt's only
   * architecture): plain loads and stores of head and tail order like Atomics, which V8 does not
   * inline for a non-shared buffer. Elsewhere: Atomics.
   */
  private readonly plainRing = process.arch === 'x64';
  /** payloadSize(abi, type) for types below 256 (-1: unknown). */
  private readonly psize = new Int16Array(256);
  private readonly q16: Uint16Array;
  private readonly q32: Uint32Array;
  private readonly qi32: Int32Array;
  private readonly nelems: number;
  private readonly capacity: number;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly gtids = new GtidMap();
  /** The gtid halves of each handle learnt, to forget it. (Seqnums live in the gtid map.) */
  private handleLo = new Uint32Array(1024);
  private handleHi = new Uint32Array(1024);
  /** Record index of each pending lookup, and how many are pending. */
  private readonly lookupRec: Int32Array;
  private pendingLookups = 0;

  /**
   * `view`: the queue mapping (header, ring, slots). `resolve(k)` must fill the handle (slot 5) of
   * the first k entries of `lookups` (client.resolveBound over the same buffer, bound natively).
   */
  constructor(
    view: ArrayBuffer,
    private readonly abi: number,
    private readonly batch: MessageBatch,
    private readonly lookups: Uint32Array,
    private readonly resolve: (k: number) => void,
    pool?: HandlePool,
  ) {
    if (view.byteLength < SLOTS_OFFSET) throw new RangeError('ghOSt queue mapping too small');
    const hdr = new Uint32Array(view, 0, 3);
    const n = hdr[2] as number;
    if (hdr[0] !== 0 || hdr[1] !== RING_OFFSET || n === 0 || (n & (n - 1)) !== 0 || n > MAX_ELEMS || SLOTS_OFFSET + n * 8 > view.byteLength)
      throw new RangeError(`not a ghOSt queue mapping (version ${hdr[0]}, start ${hdr[1]}, nelems ${n})`);
    if (lookups.length < LOOKUP_STRIDE * batch.capacity) throw new RangeError('lookups smaller than the batch');
    this.nelems = n;
    this.ring = new Uint32Array(view, RING_OFFSET, 3);
    for (let t = 0; t < 256; t++) this.psize[t] = payloadSize(abi, t);
    this.q8 = new Uint8Array(view);
    this.q16 = new Uint16Array(view, 0, view.byteLength >>> 1);
    this.q32 = new Uint32Array(view, 0, view.byteLength >>> 2);
    this.qi32 = new Int32Array(view, 0, view.byteLength >>> 2);
    this.capacity = batch.capacity;
    this.u16 = new Uint16Array(batch.buffer);
    this.u32 = new Uint32Array(batch.buffer);
    this.i32 = new Int32Array(batch.buffer);
    this.f64 = new Float64Array(batch.buffer);
    this.lookupRec = new Int32Array(batch.capacity);
    this.poolHandles = pool?.handles ?? new Int32Array(1);
    this.binds = pool?.binds ?? new Uint32Array(1);
    this.bindsCap = Math.floor((this.binds.length - 1) / BIND_STRIDE);
  }

  private readonly poolHandles: Int32Array;
  private readonly binds: Uint32Array;
  private readonly bindsCap: number;

  /** Head read by begin(), and the messages next() may still return in this round. */
  private itHead = 0;
  private itLeft = 0;
  /** Type, seqnum and task handle (task messages; 0 otherwise) of the message next() returned. */
  type = 0;
  seq = 0;
  task = 0;

  /**
   * Start consuming in place: next() then returns up to `max` admitted messages, those already in
   * the ring now. The tail moves past each message as next() returns it (what drain() does for a
   * whole batch), so a message is never handed out twice.
   */
  begin(max: number): void {
    const head = this.publishedHead();
    this.itHead = head < 0 ? 0 : head;
    this.itLeft = head < 0 ? 0 : max;
  }

  /**
   * The ring's head to consume up to, or -1 when head and tail are impossible (corruption or a
   * foreign writer): nothing in between can be trusted, so the tail jumps to the head (counted).
   */
  private publishedHead(): number {
    const ring = this.ring;
    const head = this.plainRing ? (ring[0] as number) : Atomics.load(ring, 0);
    if (((head - (ring[1] as number)) >>> 0) <= this.nelems) return head;
    this.stats.corrupt++;
    Atomics.store(ring, 1, head);
    return -1;
  }

  /** Type and length of the message the last frame() accepted (type -1: nothing to hand out). */
  private frameType = -1;
  private frameLen = 0;

  /**
   * The checks drain() and next() share: frames the message at ring position `tail` (`head` = end
   * of what is published) and returns the position past it, with frameType / frameLen set, or
   * frameType -1 for a NOP or a message the ABI refuses (counted). A length that cannot be trusted
   * leaves the next boundary unknown: the position then steps one slot, to resync.
   */
  private frame(tail: number, head: number): number {
    const idx = tail & (this.nelems - 1);
    const off = SLOTS_OFFSET + idx * 8;
    // type and length (two u16) from one u32 load: one view of the mapping on this path, not two.
    const w = this.q32[off >> 2] as number;
    const type = LITTLE_ENDIAN ? w & 0xffff : w >>> 16;
    const len = LITTLE_ENDIAN ? w >>> 16 : w & 0xffff;
    const nslots = (len + 7) >>> 3;
    this.frameType = -1;
    if (len < 8 || nslots > this.nelems - idx || nslots > ((head - tail) >>> 0)) {
      this.stats.bad++;
      return (tail + 1) >>> 0;
    }
    if (type === MsgType.NOP) {
      this.stats.nops++;
    } else {
      const psize = type < 256 ? (this.psize[type] as number) : -1;
      if (psize < 0 || len !== 8 + psize) this.stats.bad++;
      else {
        this.frameType = type;
        this.frameLen = len;
      }
    }
    return (tail + nslots) >>> 0;
  }

  /** The seqnum rule (strictly increasing per task after its first message) for the task at gtid-map `slot`: false (counted) for a stale one. */
  private freshSeq(slot: number, seq: number): boolean {
    const last = this.gtids.seqAt(slot);
    if (last !== 0 && ((seq - last) | 0) <= 0) {
      this.stats.staleSeq++;
      return false;
    }
    this.gtids.setSeqAt(slot, seq);
    return true;
  }

  /**
   * The next admitted message (the same checks, seqnum rule and statistics as drain()): its payload
   * offset in the mapping, with type / seq / task set; -1 when this round is over. A task message
   * of a task this client never saw announced comes with task 0 (and is counted, as in drain()); one
   * with a stale seqnum is counted and skipped. A gtid the
   * decoder has not seen is resolved at once (one native call), since later messages of the same
   * round may name the task.
   */
  next(): number {
    if (this.itLeft <= 0) return -1;
    const { q32, ring } = this;
    const head = this.itHead;
    const mask = this.nelems - 1;
    let tail = ring[1] as number;
    let p = -1;
    while (tail !== head) {
      const off = SLOTS_OFFSET + (tail & mask) * 8;
      tail = this.frame(tail, head);
      const type = this.frameType;
      if (type < 0) continue;
      const seq = q32[(off + 4) >> 2] as number;
      let h = 0;
      if (type >= 64 && type < 128) {
        h = this.admitAt(type, seq, off + 8);
        if (h < 0) continue;
      }
      this.type = type;
      this.seq = seq;
      this.task = h;
      p = off + 8;
      break;
    }
    if (this.plainRing) ring[1] = tail;
    else Atomics.store(ring, 1, tail);
    if (p < 0) {
      this.itLeft = 0;
      return -1;
    }
    this.itLeft--;
    this.stats.messages++;
    return p;
  }

  /** Handle of the task message at payload `p` (0: unknown task), or -1: a stale seqnum, skip it. */
  private admitAt(type: number, seq: number, p: number): number {
    const lo = this.gtidLoAt(p);
    const hi = this.gtidHiAt(p);
    const gtids = this.gtids;
    let slot = gtids.index(lo, hi);
    if (slot < 0) {
      const h = (type === MsgType.TASK_NEW ? this.fromPool(lo, hi, p) : 0) || this.resolveOne(type, lo, hi, p);
      if (h === 0) return 0;
      slot = gtids.index(lo, hi);
    }
    return this.freshSeq(slot, seq) ? gtids.handleAt(slot) : -1;
  }

  /** The native table's handle for a gtid the decoder does not know (learnt), or 0: unknown (counted). */
  private resolveOne(type: number, lo: number, hi: number, p: number): number {
    const l = this.lookups;
    l[0] = lo;
    l[1] = hi;
    const isNew = type === MsgType.TASK_NEW;
    l[2] = isNew ? 1 : 0;
    l[3] = isNew ? this.newSwIdAt(p) : 0;
    l[4] = isNew ? this.newSwIndexAt(p) : 0;
    this.resolve(1);
    const h = l[5] as number;
    if (h === 0) {
      this.stats.unknownTask++;
      return 0;
    }
    if (this.gtids.get(lo, hi) !== h) this.learnGtid(h, lo, hi);
    return h;
  }

  /** A pool handle for the new task at `p` (bound natively later), or 0: none left, ask instead. */
  private fromPool(lo: number, hi: number, p: number): number {
    const pool = this.poolHandles;
    const n = pool[0] as number;
    const binds = this.binds;
    const nb = binds[0] as number;
    if (n <= 0 || nb >= this.bindsCap) return 0;
    const h = pool[n] as number;
    pool[0] = n - 1;
    const b = 1 + nb * BIND_STRIDE;
    binds[b] = h;
    binds[b + 1] = lo;
    binds[b + 2] = hi;
    binds[b + 3] = this.newSwIdAt(p);
    binds[b + 4] = this.newSwIndexAt(p);
    binds[0] = nb + 1;
    this.learnGtid(h, lo, hi);
    return h;
  }

  // ---- Fields of the message at payload offset `p` (ghost_msg_payload_*, abi.h) --------------------

  /** gtid halves (every task message starts with its gtid). */
  gtidLoAt(p: number): number {
    return this.q32[p >> 2] as number;
  }
  gtidHiAt(p: number): number {
    return this.q32[(p + 4) >> 2] as number;
  }
  /** Runtime ns of BLOCKED, SWITCHTO, PREEMPT, YIELD (and ON_CPU's commit time): u64 at 8. */
  runtimeAt(p: number): number {
    return this.u64(p + 8);
  }
  /** TASK_NEW: runtime ns, runnable, status-word region id and index. */
  newRuntimeAt(p: number): number {
    return this.u64(p + 16);
  }
  newRunnableAt(p: number): boolean {
    return (this.q16[(p + 24) >> 1] as number) !== 0;
  }
  newSwIdAt(p: number): number {
    return this.q32[(p + 32) >> 2] as number;
  }
  newSwIndexAt(p: number): number {
    return this.q32[(p + 36) >> 2] as number;
  }
  /** TASK_WAKEUP: the kernel may defer acting on it (DecFlag.DEFERRABLE). */
  wakeupDeferrableAt(p: number): boolean {
    return this.q8[p + 16] !== 0;
  }
  /** TASK_PREEMPT: the task was latched, not running (DecFlag.WAS_LATCHED). */
  preemptWasLatchedAt(p: number): boolean {
    return this.q8[p + 37] !== 0;
  }
  /** CPU messages: the CPU (first field of every CPU payload). */
  cpuMsgCpuAt(p: number): number {
    return this.qi32[p >> 2] as number;
  }

  /** Messages waiting (head - tail), without consuming. */
  pending(): number {
    const used = ((this.ring[0] as number) - (this.ring[1] as number)) >>> 0;
    return used > this.nelems ? 0 : used;
  }

  /** The kernel's count of dropped messages (ring.overflow). */
  overflow(): number {
    return this.ring[2] as number;
  }

  /**
   * Decode up to batch.capacity messages into `batch` and advance the tail past everything
   * consumed (the rest stays in the ring). Sets and returns batch.count.
   */
  drain(): number {
    const ring = this.ring;
    const head = this.publishedHead();
    if (head < 0) return (this.batch.count = 0);
    let tail = ring[1] as number;
    const q32 = this.q32;
    const mask = this.nelems - 1;
    let n = 0;
    while (tail !== head && n < this.capacity) {
      const off = SLOTS_OFFSET + (tail & mask) * 8;
      tail = this.frame(tail, head);
      const type = this.frameType;
      if (type < 0) continue;
      const seq = q32[(off + 4) >> 2] as number;
      this.decodeOne(n, type, this.frameLen, seq, off + 8);
      if (type >= 64 && type < 128 && !this.admit(n, type, seq, off + 8)) continue;
      n++;
    }
    if (this.plainRing) ring[1] = tail;
    else Atomics.store(ring, 1, tail);
    if (this.pendingLookups !== 0) n = this.resolvePending(n);
    this.stats.messages += n;
    return (this.batch.count = n);
  }

  /**
   * Task record `i`: its handle from the gtid map and the seqnum rule (strictly increasing per
   * task after its first message). False: drop it. A gtid not in the map waits for one batched
   * native lookup at the end of the drain (resolvePending), its seqnum checked then.
   */
  private admit(i: number, type: number, seq: number, p: number): boolean {
    // From the slot, not the record just written (a store-to-load round trip through the batch).
    const q32 = this.q32;
    const lo = q32[p >> 2] as number;
    const hi = q32[(p + 4) >> 2] as number;
    const gtids = this.gtids;
    const slot = gtids.index(lo, hi);
    if (slot < 0) {
      const k = this.pendingLookups++;
      const l = k * LOOKUP_STRIDE;
      const lookups = this.lookups;
      lookups[l] = lo;
      lookups[l + 1] = hi;
      const isNew = type === MsgType.TASK_NEW;
      lookups[l + 2] = isNew ? 1 : 0;
      lookups[l + 3] = isNew ? this.newSwIdAt(p) : 0;
      lookups[l + 4] = isNew ? this.newSwIndexAt(p) : 0;
      this.lookupRec[k] = i;
      return true;
    }
    this.u32[i * 16 + 2] = gtids.handleAt(slot);
    return this.freshSeq(slot, seq);
  }

  /** The client released `handle` (SW_FREE): forget its gtid so a reuse of the handle starts afresh. */
  forget(handle: number): void {
    if (handle <= 0 || handle >= this.handleLo.length) return;
    // (Its seqnum goes with the map entry.)
    if (this.gtids.get(this.handleLo[handle] as number, this.handleHi[handle] as number) === handle)
      this.gtids.delete(this.handleLo[handle] as number, this.handleHi[handle] as number);
  }

  /** The native task table's handles for the gtids admit() did not know, then their seqnums;
   *  records dropped here are compacted out. Returns the new record count. */
  private resolvePending(n: number): number {
    const { u32, lookups } = this;
    const k = this.pendingLookups;
    this.pendingLookups = 0;
    this.resolve(k);
    let dropped = 0;
    for (let j = 0; j < k; j++) {
      const h = lookups[j * LOOKUP_STRIDE + 5] as number;
      const i = this.lookupRec[j] as number;
      u32[i * 16 + 2] = h;
      if (h === 0) {
        this.stats.unknownTask++;
        continue;
      }
      const lo = lookups[j * LOOKUP_STRIDE] as number;
      const hi = lookups[j * LOOKUP_STRIDE + 1] as number;
      if (this.gtids.get(lo, hi) !== h) this.learn(h, i);
      if (!this.freshSeq(this.gtids.index(lo, hi), u32[i * 16 + 1] as number)) {
        u16Set(this.u16, i, DROPPED);
        dropped++;
      }
    }
    if (dropped === 0) return n;
    let w = 0;
    for (let i = 0; i < n; i++) {
      if (u16At(this.u16, i) === DROPPED) continue;
      if (w !== i) this.f64.copyWithin(w * 8, i * 8, i * 8 + 8);
      w++;
    }
    return w;
  }

  private learn(h: number, rec: number): void {
    this.learnGtid(h, this.u32[rec * 16 + 12] as number, this.u32[rec * 16 + 13] as number);
  }

  private growHandles(h: number): void {
    let len = this.handleLo.length;
    while (len <= h) len *= 2;
    const grow = (a: Uint32Array): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(len);
      b.set(a);
      return b;
    };
    this.handleLo = grow(this.handleLo);
    this.handleHi = grow(this.handleHi);
  }

  private learnGtid(h: number, lo: number, hi: number): void {
    if (h >= this.handleLo.length) this.growHandles(h);
    this.gtids.set(lo, hi, h);
    this.handleLo[h] = lo;
    this.handleHi[h] = hi;
  }

  /** A u64 field at byte `at` as a number (exact below 2^53, else rounded once, as the native cast does). */
  private u64(at: number): number {
    return (this.q32[at >> 2] as number) + (this.q32[(at + 4) >> 2] as number) * TWO32;
  }

  /**
   * One message into record `i` (native Decoded layout: src/native/ghost.ts MessageBatch). Every
   * word of the record is stored exactly once (a zero where the type has no field): no zeroing
   * pass, and no narrower store over a wider one.
   */
  private decodeOne(i: number, type: number, len: number, seq: number, p: number): void {
    const { q8, q32, qi32 } = this;
    let cpu = -1;
    let flags = 0;
    let a = 0;
    let b = 0;
    let c = 0;
    let time = 0;
    let cpuSeq = 0;
    let glo = 0;
    let ghi = 0;
    let g2lo = 0;
    let g2hi = 0;
    if (type >= 64 && type < 128) {
      glo = this.gtidLoAt(p);
      ghi = this.gtidHiAt(p);
    }
    switch (type) {
      case MsgType.TASK_NEW:
        time = this.newRuntimeAt(p);
        flags = (this.newRunnableAt(p) ? DecFlag.RUNNABLE : 0) | (this.abi >= 88 ? DecFlag.HAS_AGENT_DATA : 0);
        a = qi32[(p + 28) >> 2] as number;
        b = this.newSwIndexAt(p);
        c = this.newSwIdAt(p);
        g2lo = q32[(p + 8) >> 2] as number;
        g2hi = q32[(p + 12) >> 2] as number;
        break;
      case MsgType.TASK_WAKEUP:
        cpu = qi32[(p + 24) >> 2] as number;
        a = qi32[(p + 20) >> 2] as number;
        b = qi32[(p + 28) >> 2] as number;
        flags = this.wakeupDeferrableAt(p) ? DecFlag.DEFERRABLE : 0;
        g2lo = q32[(p + 8) >> 2] as number;
        g2hi = q32[(p + 12) >> 2] as number;
        break;
      case MsgType.TASK_BLOCKED:
      case MsgType.TASK_SWITCHTO:
        cpu = qi32[(p + 24) >> 2] as number;
        time = this.runtimeAt(p);
        cpuSeq = this.u64(p + 16);
        if (type === MsgType.TASK_BLOCKED) flags = q8[p + 28] !== 0 ? DecFlag.FROM_SWITCHTO : 0;
        break;
      case MsgType.TASK_PREEMPT:
      case MsgType.TASK_YIELD:
        cpu = qi32[(p + 32) >> 2] as number;
        time = this.runtimeAt(p);
        cpuSeq = this.u64(p + 16);
        flags =
          (q8[p + 36] !== 0 ? DecFlag.FROM_SWITCHTO : 0) |
          (type === MsgType.TASK_PREEMPT && this.preemptWasLatchedAt(p) ? DecFlag.WAS_LATCHED : 0);
        g2lo = q32[(p + 24) >> 2] as number;
        g2hi = q32[(p + 28) >> 2] as number;
        break;
      case MsgType.TASK_DEAD:
        if (this.abi >= 89) {
          cpu = qi32[(p + 8) >> 2] as number;
          flags = DecFlag.HAS_CPU;
        }
        break;
      case MsgType.TASK_DEPARTED:
        cpu = qi32[(p + 16) >> 2] as number;
        cpuSeq = this.u64(p + 8);
        flags = (q8[p + 20] !== 0 ? DecFlag.FROM_SWITCHTO : 0) | (q8[p + 21] !== 0 ? DecFlag.WAS_CURRENT : 0);
        break;
      case MsgType.TASK_PRIORITY_CHANGED:
      case MsgType.TASK_LATCH_FAILURE:
        a = qi32[(p + 8) >> 2] as number;
        break;
      case MsgType.TASK_ON_CPU:
        cpu = qi32[(p + 24) >> 2] as number;
        time = this.u64(p + 8);
        cpuSeq = this.u64(p + 16);
        break;
      case MsgType.CPU_TICK:
        cpu = qi32[p >> 2] as number;
        if (this.abi >= 90) flags = DecFlag.HAS_CPU | ((qi32[(p + 4) >> 2] as number) !== 0 ? DecFlag.IS_AGENT : 0);
        break;
      case MsgType.CPU_TIMER_EXPIRED:
        cpu = qi32[p >> 2] as number;
        time = this.u64(p + 8);
        cpuSeq = this.u64(p + 16);
        break;
      case MsgType.CPU_NOT_IDLE:
        cpu = qi32[p >> 2] as number;
        g2lo = q32[(p + 8) >> 2] as number;
        g2hi = q32[(p + 12) >> 2] as number;
        break;
      case MsgType.CPU_AVAILABLE:
      case MsgType.CPU_BUSY:
      case MsgType.CPU_AGENT_BLOCKED:
      case MsgType.CPU_AGENT_WAKEUP:
        cpu = this.cpuMsgCpuAt(p);
        break;
      default:
        // TASK_AFFINITY_CHANGED: the gtid only.
        break;
    }
    const { u16, i32, f64 } = this;
    const r = i * 16;
    u16[i * 32] = type;
    u16[i * 32 + 1] = len;
    i32[r + 1] = seq;
    i32[r + 2] = 0; // task handle: admit() / resolvePending()
    i32[r + 3] = cpu;
    i32[r + 4] = flags;
    i32[r + 5] = a;
    i32[r + 6] = b;
    i32[r + 7] = c;
    f64[i * 8 + 4] = time;
    f64[i * 8 + 5] = cpuSeq;
    i32[r + 12] = glo;
    i32[r + 13] = ghi;
    i32[r + 14] = g2lo;
    i32[r + 15] = g2hi;
  }
}
