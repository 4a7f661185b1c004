/**
 * The JS queue decoder (src/native/ghost-queue.ts) against the native one (queue.cc, through
 * decodeRing): on random rings of valid messages of every type under each ABI, mixed with NOP
 * fillers, garbage slots, stale seqnums, unknown tasks and impossible indices, both must produce
 * the same records byte for byte and the same counters. The native task table is mimicked by a
 * resolver that interns on TASK_NEW and finds otherwise, as a fresh TaskTable does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecFlag, decodeRing, MessageBatch, MsgType, RECORD_BYTES, SUPPORTED_ABIS } from '../../../src/native/ghost.js';
import { GtidMap, LOOKUP_STRIDE, payloadSize, QueueDecoder } from '../../../src/native/ghost-queue.js';
import { nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const TYPES = Object.values(MsgType).filter((t) => t !== MsgType.NOP);

/** A queue mapping of `nelems` slots with messages from `tail` on; returns the buffer. */
function randomRing(abi: number, nelems: number, seed: number): ArrayBuffer {
  const r = rng(seed);
  const buf = new ArrayBuffer(76 + nelems * 8 + 8);
  const dv = new DataView(buf);
  const u8 = new Uint8Array(buf);
  dv.setUint32(0, 0, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, nelems, true);
  const gtids = Array.from({ length: 6 }, () => [r(), r()] as const);
  const seqs = gtids.map(() => 0);
  const start = (r() >>> 0) % 2 ? 0xffffffff - (r() % nelems) : r() % 100000; // exercise u32 wrap
  let tail = start >>> 0;
  let used = 0;
  const budget = nelems - (r() % 8);
  while (used < budget) {
    const idx = (tail + used) % nelems;
    const contiguous = nelems - idx;
    const roll = r() % 100;
    const off = 76 + idx * 8;
    if (roll < 4) {
      // Garbage header.
      for (let b = 0; b < 8; b++) u8[off + b] = r() & 0xff;
      used += 1;
      continue;
    }
    const type = roll < 8 ? r() % 200 : (TYPES[r() % TYPES.length] as number);
    const ps = payloadSize(abi, type);
    const len = roll < 10 ? 8 + (r() % 64) : 8 + Math.max(0, ps);
    const slots = Math.ceil(len / 8);
    if (slots > contiguous || slots > budget - used) {
      if (contiguous > budget - used) break;
      // NOP filler to the end of the ring, as the kernel writes at the wrap.
      dv.setUint16(off, MsgType.NOP, true);
      dv.setUint16(off + 2, contiguous * 8, true);
      used += contiguous;
      continue;
    }
    for (let b = 8; b < slots * 8; b++) u8[off + b] = r() & 0xff;
    let seq = r();
    if (type >= 64 && type < 128) {
      const g = r() % (gtids.length + 1); // the last one: a task never announced (fresh gtid)
      const [lo, hi] = g < gtids.length ? (gtids[g] as readonly [number, number]) : [r(), r()];
      dv.setUint32(off + 8, lo, true);
      dv.setUint32(off + 12, hi, true);
      if (g < gtids.length) {
        // Mostly increasing, sometimes a replay (stale).
        seqs[g] = r() % 10 === 0 ? (seqs[g] as number) : (seqs[g] as number) + 1 + (r() % 3);
        seq = seqs[g] as number;
      }
    }
    dv.setUint16(off, type, true);
    dv.setUint16(off + 2, len, true);
    dv.setUint32(off + 4, seq >>> 0, true);
    used += slots;
  }
  const corrupt = r() % 25 === 0;
  dv.setUint32(64, (tail + (corrupt ? nelems + 1 + (r() % 5) : used)) >>> 0, true);
  dv.setUint32(68, tail, true);
  tail = 0;
  return buf;
}

/** A fresh native TaskTable's answers (intern on TASK_NEW, else find), in lookup order. */
function tableResolver(lookups: Uint32Array): (k: number) => void {
  const table = new Map<string, number>();
  return (k) => {
    for (let j = 0; j < k; j++) {
      const l = j * LOOKUP_STRIDE;
      const key = `${lookups[l]}:${lookups[l + 1]}`;
      let h = table.get(key) ?? 0;
      if (h === 0 && lookups[l + 2]) table.set(key, (h = table.size + 1));
      lookups[l + 5] = h;
    }
  };
}

test('queue decoder: JS decode = native decode on random rings, every ABI', { skip }, () => {
  let compared = 0;
  const seen = { messages: 0, nops: 0, bad: 0, staleSeq: 0, unknownTask: 0, corrupt: 0 };
  for (const abi of SUPPORTED_ABIS) {
    for (let seed = 1; seed <= 150; seed++) {
      const nelems = 1 << (4 + (seed % 6));
      const ring = randomRing(abi, nelems, seed * 7919 + abi);
      const cap = nelems + 1;
      const nativeOut = new ArrayBuffer(cap * RECORD_BYTES);
      const native = decodeRing(abi, new Uint8Array(ring.slice(0)), nativeOut);
      const batch = new MessageBatch(cap);
      const lookups = new Uint32Array(LOOKUP_STRIDE * cap);
      const dec = new QueueDecoder(ring, abi, batch, lookups, tableResolver(lookups));
      const n = dec.drain();
      assert.equal(n, native.count, `abi ${abi} seed ${seed}: record count`);
      assert.deepEqual(
        new Uint8Array(batch.buffer, 0, n * RECORD_BYTES),
        new Uint8Array(nativeOut, 0, n * RECORD_BYTES),
        `abi ${abi} seed ${seed}: records`,
      );
      const st = native.stats;
      for (const k of Object.keys(seen) as (keyof typeof seen)[]) {
        assert.equal(dec.stats[k], st[k], `abi ${abi} seed ${seed}: ${k}`);
        seen[k] += st[k];
      }
      assert.equal(new DataView(ring).getUint32(68, true), native.tail, `abi ${abi} seed ${seed}: tail`);
      compared += n;
    }
  }
  assert.ok(compared > 10_000, `compared ${compared} records`);
  // Every path of the decoder was taken somewhere.
  for (const [k, v] of Object.entries(seen)) assert.ok(v > 0, `no ${k} in any ring`);
});

test('queue decoder: in place (begin/next and the field accessors) = the records drain() writes', () => {
  let compared = 0;
  for (const abi of SUPPORTED_ABIS) {
    for (let seed = 1; seed <= 150; seed++) {
      const nelems = 1 << (4 + (seed % 6));
      const ring = randomRing(abi, nelems, seed * 7919 + abi);
      const ring2 = ring.slice(0);
      const cap = nelems + 1;
      const batch = new MessageBatch(cap);
      const lookups = new Uint32Array(LOOKUP_STRIDE * cap);
      const dec = new QueueDecoder(ring, abi, batch, lookups, tableResolver(lookups));
      const n = dec.drain();
      const lookups2 = new Uint32Array(LOOKUP_STRIDE * cap);
      const inPlace = new QueueDecoder(ring2, abi, new MessageBatch(cap), lookups2, tableResolver(lookups2));
      inPlace.begin(cap);
      let i = 0;
      for (let p = inPlace.next(); p >= 0; p = inPlace.next(), i++) {
        const at = `abi ${abi} seed ${seed} message ${i}`;
        assert.ok(i < n, `${at}: more messages than drain()`);
        const type = batch.type(i);
        assert.equal(inPlace.type, type, `${at}: type`);
        assert.equal(inPlace.seq, batch.seqnum(i), `${at}: seq`);
        assert.equal(inPlace.task, batch.task(i), `${at}: task`);
        if (type >= 64 && type < 128) {
          assert.equal(inPlace.gtidLoAt(p), batch.gtidLo(i), `${at}: gtid lo`);
          assert.equal(inPlace.gtidHiAt(p), batch.gtidHi(i), `${at}: gtid hi`);
        }
        switch (type) {
          case MsgType.TASK_NEW:
            assert.equal(inPlace.newRuntimeAt(p), batch.time(i), `${at}: runtime`);
            assert.equal(inPlace.newRunnableAt(p), (batch.flags(i) & DecFlag.RUNNABLE) !== 0, `${at}: runnable`);
            assert.equal(inPlace.newSwIndexAt(p), batch.b(i) >>> 0, `${at}: sw index`);
            assert.equal(inPlace.newSwIdAt(p), batch.c(i), `${at}: sw id`);
            break;
          case MsgType.TASK_WAKEUP:
            assert.equal(inPlace.wakeupDeferrableAt(p), (batch.flags(i) & DecFlag.DEFERRABLE) !== 0, `${at}: deferrable`);
            break;
          case MsgType.TASK_PREEMPT:
            assert.equal(inPlace.preemptWasLatchedAt(p), (batch.flags(i) & DecFlag.WAS_LATCHED) !== 0, `${at}: was latched`);
            assert.equal(inPlace.runtimeAt(p), batch.time(i), `${at}: runtime`);
            break;
          case MsgType.TASK_BLOCKED:
          case MsgType.TASK_SWITCHTO:
          case MsgType.TASK_YIELD:
            assert.equal(inPlace.runtimeAt(p), batch.time(i), `${at}: runtime`);
            break;
          case MsgType.CPU_AVAILABLE:
          case MsgType.CPU_BUSY:
            assert.equal(inPlace.cpuMsgCpuAt(p), batch.cpu(i), `${at}: cpu`);
            break;
          default:
            break;
        }
      }
      assert.equal(i, n, `abi ${abi} seed ${seed}: message count`);
      assert.deepEqual(inPlace.stats, dec.stats, `abi ${abi} seed ${seed}: counters`);
      assert.equal(new DataView(ring2).getUint32(68, true), new DataView(ring).getUint32(68, true), `abi ${abi} seed ${seed}: tail`);
      compared += n;
    }
  }
  assert.ok(compared > 10_000, `compared ${compared} messages`);
});

test('queue decoder: GtidMap (and the seqnum in each entry) agrees with a Map under random inserts and deletes', () => {
  const r = rng(42);
  const m = new GtidMap();
  const ref = new Map<string, number>();
  // The seqnum kept with each entry: it moves with the entry (deletes shift slots, growth rehashes)
  // and starts afresh when the gtid gets another handle.
  const seqs = new Map<string, number>();
  const keys = Array.from({ length: 3000 }, () => [r(), r() % 4] as const);
  for (let i = 0; i < 200_000; i++) {
    const [lo, hi] = keys[r() % keys.length] as readonly [number, number];
    const key = `${lo}:${hi}`;
    const roll = r() % 3;
    if (roll === 0) {
      m.delete(lo, hi);
      ref.delete(key);
      seqs.delete(key);
    } else if (roll === 1 && ref.has(key)) {
      const seq = 1 + (r() % 100000);
      m.setSeqAt(m.index(lo, hi), seq);
      seqs.set(key, seq);
    } else {
      const v = 1 + (r() % 1000);
      m.set(lo, hi, v);
      if (ref.get(key) !== v) seqs.set(key, 0);
      ref.set(key, v);
    }
    if (i % 1000 === 0) {
      for (const [k0, k1] of keys) {
        const k = `${k0}:${k1}`;
        assert.equal(m.get(k0, k1), ref.get(k) ?? 0);
        const at = m.index(k0, k1);
        assert.equal(at < 0 ? undefined : m.seqAt(at), seqs.get(k), `seqnum of ${k}`);
      }
    }
  }
  assert.equal(m.count, ref.size);
});
