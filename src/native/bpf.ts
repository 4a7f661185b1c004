/**
 * Typed face of the alps_bpf addon (native/bpf): libbpf objects, maps, ring buffers and run-time
 * statistics, plus the byte layouts of the structs in ghost-kernel/bpf/alps_common.h. Every
 * layout here mirrors that header field by field (little-endian, x86-64).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { InvocationRecord } from '../core/records.js';
import { loadNative, projectRoot } from './load.js';

export interface ProgramInfo {
  name: string;
  section: string;
  fd: number;
  type: number;
  autoload: boolean;
}
export interface MapInfo {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Bytes of one lookup result (per-CPU maps: one aligned value per possible CPU). */
  valueBytes: number;
  fd: number;
}
export interface ProgStats {
  id: number;
  name: string;
  runTimeNs: number;
  runCnt: number;
  recursionMisses: number;
}

export interface BpfMap {
  info(): MapInfo;
  lookup(key: Uint8Array): Buffer | null;
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  delete(key: Uint8Array): boolean;
  /** One BPF_MAP_UPDATE_BATCH for `count` packed keys and values. */
  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags?: number): void;
  keys(): Buffer[];
  /** Task-storage maps: write/delete the value of task `pid` (keyed by a pidfd). */
  updateTaskStorage(pid: number, value: Uint8Array): void;
  deleteTaskStorage(pid: number): boolean;
  /** Pin in bpffs (the pin outlives the process until unlinked). */
  pin(path: string): void;
  close(): void;
}
export interface BpfLink {
  readonly fd: number;
  destroy(): void;
}
export interface BpfObject {
  load(): void;
  programs(): ProgramInfo[];
  maps(): Omit<MapInfo, 'valueBytes'>[];
  map(name: string): BpfMap;
  reuseMap(name: string, map: BpfMap): void;
  setAutoload(prog: string, on: boolean): void;
  structOpsData(map: string): Buffer;
  structOpsData(map: string, data: Uint8Array): void;
  attachProgram(name: string): BpfLink;
  attachStructOps(map: string): BpfLink;
  close(): void;
}
export interface RingBuffer {
  /** Consume synchronously; returns how many records were delivered. */
  drain(): number;
  close(): void;
}
export interface StatsHandle {
  close(): void;
}

export interface AlpsBpfAddon {
  BpfObject: new (path: string, opts?: { pinRoot?: string }) => BpfObject;
  RingBuffer: new (map: BpfMap, onRecords: (records: Buffer[]) => void) => RingBuffer;
  /** BPF_ENABLE_STATS(RUN_TIME): run_time_ns/run_cnt count while the handle is open. */
  StatsHandle: new () => StatsHandle;
  progStats(progFd: number): ProgStats;
  mapFromPin(path: string): BpfMap;
  libbpfVersion(): string;
  numPossibleCpus(): number;
}

/** Errors thrown by the addon carry the errno name and libbpf's log (verifier output). */
export interface BpfError extends Error {
  code?: string;
  errno?: number;
  log?: string;
}

let addon: AlpsBpfAddon | undefined;

/** The addon, through the one native-module loader (local build, else the shipped prebuild). */
export function loadBpf(): AlpsBpfAddon {
  addon ??= loadNative<AlpsBpfAddon>('alps_bpf');
  return addon;
}

// ---- paths ------------------------------------------------------------------------------

/** Where `make -C ghost-kernel/bpf` puts objects and helper binaries. */
export function bpfBuildDir(): string {
  return process.env.GHOST_ALPS_BPF_DIR ?? join(projectRoot(), 'ghost-kernel', 'bpf', 'build');
}
export const bpfArtifact = (name: 'profile.bpf.o' | 'bench_empty.bpf.o' | 'alps.bpf.o' | 'alps-exec' | 'alps-burn' | 'alps-loader'): string =>
  join(bpfBuildDir(), name);

/** Can BPF programs be loaded here? `reason` says why not (for test skips and CLI errors). */
export function bpfAvailability(object: 'profile.bpf.o' | 'alps.bpf.o' = 'profile.bpf.o'): { ok: boolean; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'BPF needs Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'loading BPF needs root (CAP_BPF + CAP_PERFMON/SYS_ADMIN)' };
  if (!existsSync('/sys/kernel/btf/vmlinux')) return { ok: false, reason: 'kernel has no BTF (/sys/kernel/btf/vmlinux)' };
  if (!existsSync(bpfArtifact(object))) return { ok: false, reason: `${bpfArtifact(object)} not built (make -C ghost-kernel/bpf)` };
  try {
    loadBpf();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  return { ok: true, reason: '' };
}

// ---- layouts (ghost-kernel/bpf/alps_common.h) -----------------------------------------------

export const ALPS_MAX_SLICES = 32;
/** Functions per policy half (alps_policy holds two halves). */
export const ALPS_POLICY_MAX = 8192;
/** Largest rank in the kernel's table (ranks are compressed to 1..n, see PolicyWriter). */
export { ALPS_MAX_RANK } from '../core/alps-rule.js';
export const TAG_BYTES = 16;
export const PROF_RECORD_BYTES = 88 + 8 * ALPS_MAX_SLICES;
export const POLICY_ENTRY_BYTES = 24;
export const CTL_BYTES = 32;
export const EXIT_DUMP_BYTES = 4096;
export const EXIT_INFO_BYTES = 16 + 128 + 256 + EXIT_DUMP_BYTES;

export enum ProfStat {
  switches = 0,
  records = 1,
  dropped = 2,
  trackFail = 3,
}
export const PROF_NR_STATS = 4;

export interface Tag {
  funcId: number;
  invPid: number;
  arrivalNs: number;
}
export function encodeTag(t: Tag): Buffer {
  const b = Buffer.alloc(TAG_BYTES);
  b.writeUInt32LE(t.funcId, 0);
  b.writeUInt32LE(t.invPid, 4);
  b.writeBigUInt64LE(BigInt(t.arrivalNs), 8);
  return b;
}

/** struct alps_prof_record, decoded. Times are CLOCK_MONOTONIC ns. */
export interface ProfRecord {
  seq: number;
  invPid: number;
  funcId: number;
  arrivalNs: number;
  endNs: number;
  firstRunNs: number;
  cpuNs: number;
  waitNs: number;
  blockedNs: number;
  nvcsw: number;
  nivcsw: number;
  nslices: number;
  ntasks: number;
  slicesNs: number[];
}

const u64 = (b: Buffer, off: number): number => Number(b.readBigUInt64LE(off));

export function decodeProfRecord(b: Buffer): ProfRecord {
  if (b.length < PROF_RECORD_BYTES) throw new Error(`profiler record: ${b.length} bytes, expected ${PROF_RECORD_BYTES}`);
  const nslices = b.readUInt32LE(72);
  const kept = Math.min(nslices, ALPS_MAX_SLICES);
  const slicesNs: number[] = [];
  for (let i = 0; i < kept; i++) slicesNs.push(u64(b, 88 + 8 * i));
  return {
    seq: u64(b, 0),
    invPid: b.readUInt32LE(8),
    funcId: b.readUInt32LE(12),
    arrivalNs: u64(b, 16),
    endNs: u64(b, 24),
    firstRunNs: u64(b, 32),
    cpuNs: u64(b, 40),
    waitNs: u64(b, 48),
    blockedNs: u64(b, 56),
    nvcsw: b.readUInt32LE(64),
    nivcsw: b.readUInt32LE(68),
    nslices,
    ntasks: b.readUInt32LE(76),
    slicesNs,
  };
}

/** The learner's view of a profiler record. */
export function toInvocationRecord(r: ProfRecord, name?: string): InvocationRecord {
  const rec: InvocationRecord = {
    funcId: r.funcId,
    id: r.seq,
    arrivalNs: r.arrivalNs,
    endNs: r.endNs,
    cpuNs: r.cpuNs,
    firstWaitNs: Math.max(0, r.firstRunNs - r.arrivalNs),
    waitNs: r.waitNs,
    blockedNs: r.blockedNs,
    voluntarySwitches: r.nvcsw,
    involuntarySwitches: r.nivcsw,
    slicesNs: r.slicesNs,
  };
  if (name !== undefined) rec.name = name;
  return rec;
}

export interface PolicySlot {
  rank: number;
  sliceNs: number;
  /** E[CPU] of one invocation (the ALPS rule's escape deadline); 0/absent = unknown. */
  expectedCpuNs?: number;
}
export function encodePolicyEntry(e: PolicySlot | undefined): Buffer {
  const b = Buffer.alloc(POLICY_ENTRY_BYTES);
  if (e) {
    b.writeUInt32LE(e.rank, 0);
    b.writeUInt32LE(1, 4);
    b.writeBigUInt64LE(BigInt(Math.round(e.sliceNs)), 8);
    b.writeBigUInt64LE(BigInt(Math.max(0, Math.round(e.expectedCpuNs ?? 0))), 16);
  }
  return b;
}

export interface Ctl {
  activeHalf: number;
  stallDispatch: number;
  generation: number;
  defaultSliceNs: number;
  /** Entries of the active policy (0: nothing learned, function work is ordinary). */
  functions: number;
}
export function encodeCtl(c: Ctl): Buffer {
  const b = Buffer.alloc(CTL_BYTES);
  b.writeUInt32LE(c.activeHalf, 0);
  b.writeUInt32LE(c.stallDispatch, 4);
  b.writeBigUInt64LE(BigInt(c.generation), 8);
  b.writeBigUInt64LE(BigInt(c.defaultSliceNs), 16);
  b.writeUInt32LE(c.functions, 24);
  return b;
}
export function decodeCtl(b: Buffer): Ctl {
  return { activeHalf: b.readUInt32LE(0), stallDispatch: b.readUInt32LE(4), generation: u64(b, 8), defaultSliceNs: u64(b, 16), functions: b.readUInt32LE(24) };
}

export interface ExitInfo {
  kind: number;
  exitCpu: number;
  exitCode: bigint;
  reason: string;
  msg: string;
  /** Head of the kernel's debug dump (the scheduler's state, runnable tasks), '' if none. */
  dump: string;
}
const cstr = (b: Buffer, off: number, len: number): string => {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString('utf8');
};
export function decodeExitInfo(b: Buffer): ExitInfo {
  return {
    kind: b.readInt32LE(0),
    exitCpu: b.readInt32LE(4),
    exitCode: b.readBigInt64LE(8),
    reason: cstr(b, 16, 128),
    msg: cstr(b, 144, 256),
    dump: b.length >= EXIT_INFO_BYTES ? cstr(b, 400, EXIT_DUMP_BYTES) : '',
  };
}

/** alps_policy key: (half << 32) | funcId, as a little-endian u64. */
export function policyKey(half: number, funcId: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(funcId, 0);
  b.writeUInt32LE(half, 4);
  return b;
}

/** Sum of a per-CPU u64 value (one 8-byte slot per possible CPU). */
export function sumPerCpu(b: Buffer | null | undefined): number {
  if (!b) return 0;
  let s = 0n;
  for (let off = 0; off + 8 <= b.length; off += 8) s += b.readBigUInt64LE(off);
  return Number(s);
}

export const u32Key = (k: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(k, 0);
  return b;
};
