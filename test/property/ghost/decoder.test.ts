/**
 * Fuzzing the native queue decoder (native/ghost/queue.cc) with fast-check: random and truncated
 * ring contents must never crash it, make it read outside the mapping or loop; malformed messages
 * are rejected and counted; well-formed ones are all delivered. Bounded: a few hundred runs each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeRing, MsgType, RECORD_BYTES } from '../../../src/native/ghost.js';
import { nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();
const OUT = new ArrayBuffer(RECORD_BYTES * 512);

/** Payload bytes per type and ABI (docs/ghost-abi.md §5.5). */
function payloadSize(abi: number, type: number): number {
  switch (type) {
    case MsgType.TASK_NEW: return abi < 88 ? 40 : 48;
    case MsgType.TASK_DEAD: return abi < 89 ? 8 : 16;
    case MsgType.CPU_TICK: return abi < 90 ? 4 : 8;
    case MsgType.TASK_BLOCKED: case MsgType.TASK_WAKEUP: case MsgType.TASK_SWITCHTO: case MsgType.TASK_ON_CPU: return 32;
    case MsgType.TASK_PREEMPT: case MsgType.TASK_YIELD: return 40;
    case MsgType.TASK_DEPARTED: case MsgType.CPU_TIMER_EXPIRED: return 24;
    case MsgType.TASK_AFFINITY_CHANGED: return 8;
    case MsgType.TASK_PRIORITY_CHANGED: case MsgType.TASK_LATCH_FAILURE: case MsgType.CPU_NOT_IDLE: return 16;
    default: return 4; // CPU_AVAILABLE, CPU_BUSY, CPU_AGENT_BLOCKED, CPU_AGENT_WAKEUP
  }
}
const TYPES = Object.values(MsgType).filter((t) => t !== MsgType.NOP);

interface Spec {
  type: number;
  gtid: number;
}

/** Lays messages out the way the kernel producer does (NOP padding, no wrap) from slot `start`. */
function encode(abi: number, nelems: number, start: number, msgs: Spec[]): { bytes: Uint8Array; fit: number } {
  const bytes = new Uint8Array(76 + 8 * nelems);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, nelems, true);
  let head = start;
  const seqs = new Map<number, number>();
  let fit = 0;
  for (const m of msgs) {
    const len = 8 + payloadSize(abi, m.type);
    const need = Math.ceil(len / 8);
    const idx = head % nelems;
    const contiguous = nelems - idx;
    const skipSlots = need > contiguous ? contiguous : 0;
    if (head - start + skipSlots + need > nelems) break;
    if (skipSlots) {
      dv.setUint16(76 + idx * 8, MsgType.NOP, true);
      dv.setUint16(76 + idx * 8 + 2, skipSlots * 8, true);
    }
    const at = 76 + ((head + skipSlots) % nelems) * 8;
    const seq = (seqs.get(m.gtid) ?? 0) + 1 + (m.type === MsgType.TASK_NEW ? 0 : 1);
    seqs.set(m.gtid, seq);
    dv.setUint16(at, m.type, true);
    dv.setUint16(at + 2, len, true);
    dv.setUint32(at + 4, seq, true);
    if (m.type >= 128) dv.setInt32(at + 8, m.gtid % 64, true);
    else dv.setBigUint64(at + 8, (BigInt(m.gtid) << 41n) | 1n, true);
    head += skipSlots + need;
    fit++;
  }
  dv.setUint32(64, head >>> 0, true);
  dv.setUint32(68, start >>> 0, true);
  return { bytes, fit };
}

const abiArb = fc.constantFrom(84, 90, 91);
const nelemsArb = fc.constantFrom(1, 2, 4, 8, 16, 64, 256);

test('decoder fuzz: arbitrary bytes never crash, never over-deliver, always leave the ring consumed', { skip }, () => {
  fc.assert(
    fc.property(
      abiArb,
      fc.uint8Array({ minLength: 0, maxLength: 2200 }),
      fc.boolean(),
      nelemsArb,
      fc.option(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 256 }))),
      (abi, raw, validHeader, nelems, indices) => {
      const bytes = new Uint8Array(raw);
      if (validHeader && bytes.length >= 12) {
        const dv = new DataView(bytes.buffer);
        dv.setUint32(0, 0, true);
        dv.setUint32(4, 64, true);
        dv.setUint32(8, nelems, true);
      }
      if (indices && bytes.length >= 76) {
        // Plausible indices (tail anywhere, head at most one ring ahead) so slot contents get decoded.
        const [tail, used] = indices;
        const dv = new DataView(bytes.buffer);
        dv.setUint32(68, tail, true);
        dv.setUint32(64, (tail + (used % (nelems + 1))) >>> 0, true);
      }
      const r = decodeRing(abi, bytes, OUT);
      if (r.attachErrno !== 0) {
        assert.equal(r.count, 0);
        return;
      }
      const n = new DataView(bytes.buffer).getUint32(8, true);
      assert.ok(r.count <= n, `delivered ${r.count} from a ring of ${n} slots`);
      const head = new DataView(bytes.buffer).getUint32(64, true);
      assert.equal(r.tail, head, 'consumer caught up with the producer');
      const s = r.stats;
      assert.equal(s.messages, r.count);
      const tail0 = new DataView(bytes.buffer).getUint32(68, true);
      const consumed = s.messages + s.bad + s.nops + s.staleSeq;
      assert.ok(consumed <= n, 'every slot counted at most once');
      if (s.corrupt === 0 && head !== tail0) assert.ok(consumed >= 1, 'progress was made and accounted for');
    }),
    { numRuns: 400, seed: 42 },
  );
});

test('decoder: well-formed rings decode completely at every start offset, with NOP padding at the end', { skip }, () => {
  fc.assert(
    fc.property(
      abiArb,
      nelemsArb.filter((n) => n >= 8),
      fc.nat({ max: 0xffffffff }),
      fc.array(fc.record({ type: fc.constantFrom(...TYPES), gtid: fc.integer({ min: 1, max: 6 }) }), { maxLength: 60 }),
      (abi, nelems, start, msgs) => {
        const { bytes, fit } = encode(abi, nelems, start, msgs);
        const r = decodeRing(abi, bytes, OUT);
        assert.equal(r.attachErrno, 0);
        assert.equal(r.stats.bad, 0);
        // Task messages for gtids never announced are still delivered (task 0) and counted.
        assert.equal(r.count, fit);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

test('decoder: truncated and bit-flipped rings are rejected and counted, never crash', { skip }, () => {
  fc.assert(
    fc.property(
      abiArb,
      fc.array(fc.record({ type: fc.constantFrom(...TYPES), gtid: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 30 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      fc.nat(),
      (abi, msgs, flips, cut) => {
        const { bytes, fit } = encode(abi, 64, 0, msgs);
        for (const [pos, v] of flips) bytes[76 + (pos % (bytes.length - 76))] = v;
        const truncated = bytes.subarray(0, cut % (bytes.length + 1));
        const t = decodeRing(abi, truncated, OUT);
        if (truncated.length < bytes.length) assert.notEqual(t.attachErrno, 0, 'a short mapping is refused');
        const r = decodeRing(abi, bytes, OUT);
        assert.equal(r.attachErrno, 0);
        assert.ok(r.count <= fit + flips.length * 8);
        if (flips.length === 0) assert.equal(r.count, fit);
      },
    ),
    { numRuns: 300, seed: 11 },
  );
});

test('decoder: a payload sized for another ABI is rejected as bad (ABI 84 vs 90/91)', { skip }, () => {
  const { bytes } = encode(91, 16, 0, [{ type: MsgType.TASK_NEW, gtid: 1 }, { type: MsgType.CPU_TICK, gtid: 2 }]);
  const as84 = decodeRing(84, bytes, OUT);
  assert.equal(as84.count, 0);
  assert.equal(as84.stats.bad, 2);
  const as91 = decodeRing(91, bytes, OUT);
  assert.equal(as91.count, 2);
  const as90 = decodeRing(90, bytes, OUT);
  assert.equal(as90.count, 2);
});

test('decoder: impossible indices (head - tail > nelems) are detected as corruption', { skip }, () => {
  const { bytes } = encode(91, 16, 0, [{ type: MsgType.TASK_NEW, gtid: 1 }]);
  new DataView(bytes.buffer).setUint32(64, 1000, true);
  const r = decodeRing(91, bytes, OUT);
  assert.equal(r.stats.corrupt, 1);
  assert.equal(r.count, 0);
  assert.equal(r.tail, 1000);
});
