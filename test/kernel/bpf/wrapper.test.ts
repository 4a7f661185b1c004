/**
 * The libbpf wrapper on the host kernel (root + BTF; skips with the reason otherwise): typed map
 * access and batches on the profiler's maps, size checks before any syscall, errno-carrying
 * errors with libbpf's log, task storage by pid, run-time statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BpfError, bpfArtifact, bpfAvailability, decodeExitInfo, encodePolicyEntry, encodeTag, EXIT_INFO_BYTES, loadBpf, POLICY_ENTRY_BYTES, sumPerCpu, u32Key } from '../../../src/native/bpf.js';

const avail = bpfAvailability('profile.bpf.o');
const skip = avail.ok ? false : avail.reason;

test('maps: lookup/update/delete, batch updates, keys, size checks, task storage', { skip }, () => {
  const bpf = loadBpf();
  const obj = new bpf.BpfObject(bpfArtifact('profile.bpf.o'));
  try {
    obj.load();
    const stats = obj.map('prof_stats');
    assert.deepEqual({ ...stats.info(), fd: 0 }, { name: 'prof_stats', type: 2, keySize: 4, valueSize: 8, maxEntries: 4, valueBytes: 8, fd: 0 });
    const v = (n: number): Buffer => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);
    stats.update(u32Key(2), v(42));
    assert.equal(stats.lookup(u32Key(2))?.readBigUInt64LE(0), 42n);
    stats.updateBatch(Buffer.concat([u32Key(0), u32Key(1), u32Key(3)]), Buffer.concat([v(7), v(8), v(9)]), 3);
    assert.deepEqual([0, 1, 2, 3].map((k) => Number(stats.lookup(u32Key(k))!.readBigUInt64LE(0))), [7, 8, 42, 9]);
    assert.throws(() => stats.update(Buffer.alloc(3), v(1)), /key: expected 4 bytes, got 3/);
    assert.throws(() => stats.updateBatch(u32Key(0), v(1), 2), /keys: expected 8 bytes/);
    assert.equal(stats.keys().length, 4);

    const invs = obj.map('prof_invs');
    assert.equal(invs.lookup(u32Key(123)), null, 'missing hash key reads as null');
    assert.equal(invs.delete(u32Key(123)), false);

    const tags = obj.map('alps_tags');
    tags.updateTaskStorage(process.pid, encodeTag({ funcId: 5, invPid: process.pid, arrivalNs: 1 }));
    assert.equal(tags.deleteTaskStorage(process.pid), true);
    assert.equal(tags.deleteTaskStorage(process.pid), false);
    assert.throws(() => tags.updateTaskStorage(2 ** 22 + 12345, encodeTag({ funcId: 5, invPid: 1, arrivalNs: 1 })), (e: BpfError) => e.code === 'ESRCH');
    stats.close();
    assert.throws(() => stats.lookup(u32Key(0)), /closed/);
  } finally {
    obj.close();
  }
});

test('load and attach failures carry errno codes and libbpf output', { skip }, () => {
  const bpf = loadBpf();
  const dir = mkdtempSync(join(tmpdir(), 'alps-bpf-'));
  try {
    const junk = join(dir, 'junk.o');
    writeFileSync(junk, 'not an ELF file');
    assert.throws(() => new bpf.BpfObject(junk), (e: BpfError) => /open .*junk\.o/.test(e.message) && typeof e.code === 'string');
    assert.throws(() => new bpf.BpfObject(join(dir, 'missing.o')), (e: BpfError) => e.code === 'ENOENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const obj = new bpf.BpfObject(bpfArtifact('profile.bpf.o'));
  try {
    assert.throws(() => obj.map('nope'), /no map named 'nope'/);
    assert.throws(() => obj.attachProgram('nope'), /no program named 'nope'/);
  } finally {
    obj.close();
  }
});

test('run-time statistics count while a stats handle is open', { skip }, async () => {
  const bpf = loadBpf();
  const obj = new bpf.BpfObject(bpfArtifact('profile.bpf.o'));
  const stats = new bpf.StatsHandle();
  try {
    obj.load();
    const prog = obj.programs().find((p) => p.name === 'prof_switch')!;
    const link = obj.attachProgram('prof_switch');
    await new Promise((r) => setTimeout(r, 100)); // context switches happen meanwhile
    const s = bpf.progStats(prog.fd);
    link.destroy();
    assert.equal(s.name, 'prof_switch');
    assert.ok(s.runCnt > 0 && s.runTimeNs > 0, JSON.stringify(s));
  } finally {
    stats.close();
    obj.close();
  }
});

test('scheduler codecs match alps_common.h: policy entries carry E[CPU], exit info carries the dump, per-CPU counters sum', () => {
  const e = encodePolicyEntry({ rank: 3, sliceNs: 2_000_000, expectedCpuNs: 45_000_000 });
  assert.equal(e.length, POLICY_ENTRY_BYTES);
  assert.equal(POLICY_ENTRY_BYTES, 24);
  assert.deepEqual([e.readUInt32LE(0), e.readUInt32LE(4), Number(e.readBigUInt64LE(8)), Number(e.readBigUInt64LE(16))], [3, 1, 2_000_000, 45_000_000]);
  assert.equal(Number(encodePolicyEntry({ rank: 1, sliceNs: 0 }).readBigUInt64LE(16)), 0, 'unknown E[CPU] is 0');
  const x = Buffer.alloc(EXIT_INFO_BYTES);
  x.writeInt32LE(1026, 0);
  x.write('runnable task stall', 16);
  x.write('watchdog failed', 144);
  x.write('alps: queued overdue=0 ordinary=3 ranked=1', 400);
  const d = decodeExitInfo(x);
  assert.equal(d.kind, 1026);
  assert.equal(d.reason, 'runnable task stall');
  assert.equal(d.msg, 'watchdog failed');
  assert.equal(d.dump, 'alps: queued overdue=0 ordinary=3 ranked=1');
  const per = Buffer.alloc(8 * 3);
  per.writeBigUInt64LE(5n, 0);
  per.writeBigUInt64LE(7n, 8);
  per.writeBigUInt64LE(30n, 16);
  assert.equal(sumPerCpu(per), 42);
  assert.equal(sumPerCpu(null), 0);
});
