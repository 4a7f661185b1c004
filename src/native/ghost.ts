/**
 * Typed surface over the alps_ghost addon (native/ghost + ghost-kernel/emu).
 *
 * Hot paths never allocate per message or per transaction:
 *  - `MessageBatch` is one ArrayBuffer of fixed 64-byte records (native `Decoded`, queue.h) that
 *    `drain` fills; fields are read through typed-array views by index.
 *  - `TxnBatch` is one Int32Array of 8-int ops that `commit` opens, submits with ONE ioctl and
 *    writes the resulting txn states back into.
 *  - `StatusWords` / `TxnSlots` are zero-copy views of the shared status-word region and cpu_data.
 * Plain (non-Atomics) typed-array loads are used on the shared views: the mappings are not
 * SharedArrayBuffers, and on x86-64 (TSO, the only ghOSt architecture) a load is an acquire load.
 */
import { loadNative } from './load.js';

// ---- ABI constants (native/ghost/abi.h) ------------------------------------------------------------

export const MsgType = {
  NOP: 0,
  TASK_DEAD: 64,
  TASK_BLOCKED: 65,
  TASK_WAKEUP: 66,
  TASK_NEW: 67,
  TASK_PREEMPT: 68,
  TASK_YIELD: 69,
  TASK_DEPARTED: 70,
  TASK_SWITCHTO: 71,
  TASK_AFFINITY_CHANGED: 72,
  TASK_ON_CPU: 73,
  TASK_PRIORITY_CHANGED: 74,
  TASK_LATCH_FAILURE: 75,
  CPU_TICK: 128,
  CPU_TIMER_EXPIRED: 129,
  CPU_NOT_IDLE: 130,
  CPU_AVAILABLE: 131,
  CPU_BUSY: 132,
  CPU_AGENT_BLOCKED: 133,
  CPU_AGENT_WAKEUP: 134,
} as const;
export type MsgTypeName = keyof typeof MsgType;

const INT_MIN = -2147483648;
export const TxnState = {
  READY: 2147483647,
  COMPLETE: INT_MIN,
  ABORTED: INT_MIN + 1,
  TARGET_ONCPU: INT_MIN + 2,
  TARGET_STALE: INT_MIN + 3,
  TARGET_NOT_FOUND: INT_MIN + 4,
  TARGET_NOT_RUNNABLE: INT_MIN + 5,
  AGENT_STALE: INT_MIN + 6,
  CPU_OFFLINE: INT_MIN + 7,
  CPU_UNAVAIL: INT_MIN + 8,
  INVALID_FLAGS: INT_MIN + 9,
  INVALID_TARGET: INT_MIN + 10,
  NOT_PERMITTED: INT_MIN + 11,
  INVALID_CPU: INT_MIN + 12,
  NO_AGENT: INT_MIN + 13,
  UNSUPPORTED_VERSION: INT_MIN + 14,
  POISONED: INT_MIN + 15,
  /** Client-side: the slot was still open/claimed, nothing was written or submitted. */
  NOT_OPENED: 1,
  /** Client-side: the op named a task handle this client does not know. */
  BAD_TARGET: 2,
} as const;
export type TxnStateName = keyof typeof TxnState;

export const RunFlag = {
  RTLA_ON_PREEMPT: 1 << 0,
  RTLA_ON_BLOCKED: 1 << 1,
  RTLA_ON_YIELD: 1 << 2,
  RTLA_ON_IDLE: 1 << 5,
  NEED_L1D_FLUSH: 1 << 6,
  NEED_CPU_NOT_IDLE: 1 << 7,
  ELIDE_PREEMPT: 1 << 9,
  SEND_TASK_ON_CPU: 1 << 10,
  DEFER_LATCHED_PREEMPTION_BY_AGENT: 1 << 11,
  DO_NOT_PREEMPT: 1 << 12,
} as const;

export const CommitFlag = {
  GREEDY: 0,
  AT_SCHEDULE: 1 << 0,
  AT_TXN_COMMIT: 1 << 1,
  ALLOW_TASK_ONCPU: 1 << 2,
  ELIDE_AGENT_BARRIER_INC: 1 << 3,
  INC_AGENT_BARRIER_ON_FAILURE: 1 << 4,
} as const;

/** Special txn targets (gtids). Positive targets are task handles. */
export const Target = { NULL: 0, AGENT: -1, IDLE: -2 } as const;

export const SwFlag = {
  IN_USE: 1 << 0,
  CAN_FREE: 1 << 1,
  ALLOCATED: 1 << 2,
  CPU_AVAIL: 1 << 8,
  BOOST_PRIO: 1 << 9,
  TASK_ONCPU: 1 << 16,
  TASK_RUNNABLE: 1 << 17,
  TASK_IS_AGENT: 1 << 18,
  TASK_MSG_GATED: 1 << 19,
} as const;

/** `Decoded.flags` bits. */
export const DecFlag = {
  RUNNABLE: 1 << 0,
  FROM_SWITCHTO: 1 << 1,
  WAS_LATCHED: 1 << 2,
  WAS_CURRENT: 1 << 3,
  DEFERRABLE: 1 << 4,
  IS_AGENT: 1 << 5,
  HAS_AGENT_DATA: 1 << 6,
  HAS_CPU: 1 << 7,
} as const;

export const ASSOC_ALREADY = 1;
export const ASSOC_BRAND_NEW = 2;
export const SUPPORTED_ABIS = [84, 90, 91] as const;

const msgNames = new Map<number, MsgTypeName>(Object.entries(MsgType).map(([k, v]) => [v, k as MsgTypeName]));
const stateNames = new Map<number, TxnStateName>(Object.entries(TxnState).map(([k, v]) => [v, k as TxnStateName]));
export const msgTypeName = (t: number): string => msgNames.get(t) ?? `UNKNOWN(${t})`;
export const txnStateName = (s: number): string =>
  stateNames.get(s) ?? (s >= 0 && s < TxnState.READY ? `CLAIMED_BY_CPU_${s}` : `UNKNOWN(${s})`);
export const isCommitted = (s: number): boolean => s < 0;

// ---- the native module's shape -------------------------------------------------------------------

export interface DrainStats {
  messages: number;
  nops: number;
  bad: number;
  staleSeq: number;
  unknownTask: number;
  corrupt: number;
  overflow: number;
}

export interface EmulatorOptions {
  cpus?: number;
  versions?: number[];
  tickNs?: number;
  capSysNice?: boolean;
  /** advance() lets latched tasks displace running ones (default); false: only reschedule(cpu). */
  autoPreempt?: boolean;
}

export interface EmuThread {
  pid: number;
  gtid: string;
  cls: 'cfs' | 'ghost' | 'agent';
  runnable: boolean;
  onCpu: number;
  latchedCpu: number;
  runtimeNs: number;
  /** CPU time across classes (ghOSt stays and the modelled fair class). */
  cpuNs: number;
  /** CPU the modelled fair class runs it on, or -1. */
  fairCpu: number;
  /** It has a program (setProgram) that has not ended. */
  programmed: boolean;
}
export interface EmuCpu {
  enclave: number;
  agentTid: number;
  /** The agent is parked in RUN or a local commit (still runnable, never picked until woken). */
  blockedInRun: boolean;
  /** The agent thread really sleeps (agentSleep): off the runqueue. */
  agentAsleep: boolean;
  busy: boolean;
  agentBarrier: number;
  current: number;
  latched: number;
  /** Thread the modelled fair (default) class runs here, or 0. */
  fairTid: number;
}
/** One phase of a thread's program: CPU work, or a blocking wait (fractional ns round up). */
export interface EmuPhase {
  kind: 'cpu' | 'block';
  ns: number;
}
/** A program that ran to its end (its thread exited), as the emulated kernel accounted it. */
export interface EmuCompletion {
  tid: number;
  pid: number;
  startNs: number;
  endNs: number;
  cpuNs: number;
  ghostNs: number;
  fairNs: number;
  /** It ended in the default class, not in ghOSt. */
  underFair: boolean;
}
/** Kernel-side totals over every program given to the emulator. */
export interface EmuAccounting {
  started: number;
  completed: number;
  completedUnderFair: number;
  /** Killed before their program ended. */
  killed: number;
  live: number;
  liveInGhost: number;
  liveInFair: number;
  /** CPU work done so far by all programs (completed and live), and its split by class. */
  cpuNs: number;
  ghostNs: number;
  fairNs: number;
  /** CPU work the live programs still need. */
  remainingCpuNs: number;
}
export interface EmuEnclave {
  alive: boolean;
  destroyReason: string;
  abi: number;
  online: boolean;
  cpus: number[];
}

/**
 * The emulated ghOSt kernel (ghost-kernel/emu): the driver side. All times are virtual ns. Agents
 * may call into the same kernel from other threads (native satellites, a worker thread given
 * `id()`); RUN(0) and local commits block those threads until the agent is woken. On the thread
 * that created the Emulator they park the agent and return (that thread runs the machine).
 */
export interface Emulator {
  /** Process-wide id: `createClient({ emulator: id })` works from a worker thread too. */
  id(): number;
  now(): number;
  advance(ns: number): void;
  spawn(pid: number, tid: number, runnable?: boolean): void;
  wake(tid: number, wakerCpu?: number): void;
  block(tid: number): void;
  yield(tid: number): void;
  exit(tid: number): void;
  depart(tid: number): void;
  setAffinity(tid: number): void;
  setNice(tid: number, nice: number): void;
  switchto(tid: number): void;
  latchFailure(tid: number, errno: number): void;
  setCpuBusy(cpu: number, busy: boolean, nextTid?: number): void;
  /** The agent thread of `cpu` really sleeps or wakes (CPU_AGENT_BLOCKED / WAKEUP). */
  agentSleep(cpu: number, asleep: boolean): void;
  armTimer(cpu: number, atNs: number, type: number, cookie: number): void;
  setCpuOffline(cpu: number, offline: boolean): void;
  /** Scheduling point on `cpu`: a latched task displaces the running one (advance does all CPUs). */
  reschedule(cpu: number): void;
  /** Take a task off its CPU or latch with TASK_PREEMPT. */
  evict(tid: number): void;
  killProcess(pid: number): void;
  thread(tid: number): EmuThread | null;
  cpu(cpu: number): EmuCpu | null;
  enclave(id: number): EmuEnclave | null;
  messagesProduced(): number;
  /** Start (true) or stop and clear recording every status-word publication. */
  traceStatusWords(on: boolean): void;
  /** [gtid, barrier, flags] for each publication since tracing started, in order. */
  swTrace(): [string, number, number][];
  /**
   * Give a thread (not yet in ghOSt) its work. The kernel runs it in whatever class the thread is
   * in — in ghOSt where its agent commits it, otherwise (also after its enclave is destroyed) in the
   * modelled fair class on CPUs ghOSt leaves free — blocks and wakes it between phases and exits it
   * after the last one.
   */
  setProgram(tid: number, phases: readonly EmuPhase[]): void;
  /** Virtual time of the next program event (a CPU phase or a block ends); Infinity if none. */
  nextProgramEvent(): number;
  /** Programs that ended since the last call, in order. */
  takeCompletions(): EmuCompletion[];
  accounting(): EmuAccounting;
}

export interface ClientOptions {
  /** Talk to this emulator (or the emulator with this `id()`) instead of the real kernel. */
  emulator?: Emulator | number;
  /** Emulated process and thread of this client (emulator only). */
  pid?: number;
  tid?: number;
  /** ghostfs mount point (default /sys/fs/ghost). */
  root?: string;
  /**
   * The ghOSt ABI on sched_ext instead of a ghOSt kernel (native/ghost/sys_scx.h): the static
   * loader and the BPF object of ghost-kernel/bpf/build (see src/agent/ghost/scx-backend.ts).
   */
  scx?: { loader: string; object: string; pinDir?: string };
}

/**
 * The ghOSt client (native/ghost): one enclave per client. Calls that races make routine return
 * 0 / -errno instead of throwing (becomeAgent, run, assocQueue, swFree); the rest throw an Error
 * with `code` (e.g. 'ENOENT') and `errno`.
 */
export interface GhostClient {
  present(): boolean;
  versions(): number[];
  hasCapSysNice(): boolean;
  createEnclave(abi: number, extra?: string): number;
  attach(id: number, abi?: number): void;
  abiVersion(): number;
  enclaveId(): number;
  cpus(): number[];
  setCpus(cpus: number[]): void;
  status(): string;
  tunable(name: string): number;
  setTunable(name: string, value: number): void;
  enterTask(tid: number): void;
  destroy(): void;
  discoverTasks(): void;
  /** Creates (EEXIST tolerated) and maps the status-word region; returns its zero-copy view. */
  createSwRegion(rid?: number, node?: number): ArrayBuffer;
  /** Returns the queue's index in this client. */
  createQueue(elems: number, node?: number): number;
  setDefaultQueue(queue: number): void;
  configQueueWakeup(queue: number, cpus: number[]): void;
  assocQueue(queue: number, task: number, barrier: number): number;
  becomeAgent(cpu: number, queue: number): number;
  agentSwIndex(cpu: number): number;
  taskSwIndex(task: number): number;
  setOnline(online: boolean): void;
  /** `timeoutUs` (sched_ext backend only; passed as RUN's task_barrier, which ghOSt ignores here): RUN(0) returns 0 after it. */
  run(gtid: 0 | -1, agentBarrier: number, cpu: number, runFlags?: number, timeoutUs?: number): number;
  cpuTime(task: number): number;
  swFree(task: number): number;
  null(): number;
  drain(queue: number, out: ArrayBuffer, max?: number): number;
  pending(queue: number): number;
  drainStats(queue: number): DrainStats;
  commit(ops: Int32Array, count: number, sync?: boolean): number;
  /**
   * Bind the hot-loop buffers once; then drainBound()/commitBound(n)/resolveBound(k) pass no
   * buffers. `lookups`/`frees` serve an agent that decodes the queue in JS (ghost-queue.ts), and
   * `pool`/`binds` its handle pool (ghost-queue.ts HandlePool, native/ghost/tasks.h): handles it
   * gives new tasks itself, bound by the client before any call reads the task table.
   */
  bindBuffers(
    queue: number,
    out: ArrayBuffer,
    ops: Int32Array,
    lookups?: Uint32Array,
    frees?: Int32Array,
    pool?: Int32Array,
    binds?: Uint32Array,
  ): void;
  drainBound(): number;
  /** SW_FREE the first `nfree` bound frees, then commit `count` ops (one native call). */
  commitBound(count: number, sync?: boolean, nfree?: number): number;
  /** Task handles for the first `k` bound lookups (LOOKUP_STRIDE u32 each, see ghost-queue.ts). */
  resolveBound(k: number): void;
  /**
   * commitBound and resolveBound as plain functions bound to this client (no per-call unwrap of
   * the receiver, no argument conversion): operands in `ctl` — [0] ops count, [1] frees count,
   * [2] lookups count — and commit's result in ctl[3]. After bindBuffers. Optional: a client
   * without it is driven through commitBound / resolveBound.
   */
  hotCalls?(ctl: Int32Array): { commit(): void; resolve(): void };
  /** Emulator only: later calls are made by emulated thread `tid` of this client's process. */
  actAs(tid: number): void;
  txnState(cpu: number): number;
  abortTxn(cpu: number): boolean;
  cpuDataView(): ArrayBuffer;
  /** Zero-copy view of a queue mapping: u32 head at byte 64, tail at 68, overflow at 72. */
  queueView(queue: number): ArrayBuffer;
  gtidOf(task: number): string;
  /** Handle for a gtid (decimal string) learnt outside this client's queue. */
  internGtid(gtid: string): number;
  taskCount(): number;
  close(): void;
  /**
   * One native thread per CPU becomes its agent and parks in RUN(0). Under the emulator the
   * thread for CPU c is emulated thread `tidBase + c` of this client's process (default tid * 1000).
   */
  startSatellites(cpus: number[], queue: number, tidBase?: number): void;
  /** [cpu, state, wakeups, stale]: state 0 starting, 1 agent, < 0 -errno it stopped with. */
  satelliteStatus(): [number, number, number, number][];
  stopSatellites(): void;
  /** The emulator's virtual time, or CLOCK_MONOTONIC on a real kernel (ns). */
  clockNs(): number;
  /** Benchmark baseline: a minimal native centralized FIFO agent over `queue`, placing on `cpus`. */
  fifoBaselineStart(queue: number, cpus: number[]): void;
  /** One native pass (drain + decide + commit); returns the placements made. */
  fifoBaselineStep(): number;
  /** fifoBaselineStep as a plain bound function (the same JS -> native entry as hotCalls). */
  fifoBaselineStepFn(): () => number;
}

export interface DecodeRingResult {
  attachErrno: number;
  count: number;
  stats: DrainStats;
  tail: number | null;
}

interface NativeGhost {
  Emulator: new (opts?: EmulatorOptions) => Emulator;
  Client: new (opts?: ClientOptions) => GhostClient;
  decodeRing(abi: number, ring: Uint8Array, out: ArrayBuffer): DecodeRingResult;
  abiVersions: number[];
  recordBytes: number;
  bindStride: number;
}

/** u32 per handle-pool bind entry: handle, gtid lo, gtid hi, sw region id, sw index (tasks.h kBindStride). */
export const BIND_STRIDE = 5;

let mod: NativeGhost | undefined;
function native(): NativeGhost {
  if (mod) return mod;
  const m = loadNative<NativeGhost>('alps_ghost');
  checkAddonAbi(m.recordBytes, m.abiVersions);
  if (m.bindStride !== BIND_STRIDE)
    throw new Error(`alps_ghost addon does not match src/native/ghost.ts: bind entries of ${m.bindStride} vs ${BIND_STRIDE} u32; rebuild it (npx node-gyp rebuild)`);
  return (mod = m);
}

/**
 * The addon and this file must agree on the record layout and the ABIs: a stale build would
 * otherwise decode garbage. Throws naming both sides when they differ.
 */
export function checkAddonAbi(recordBytes: number, abiVersions: readonly number[]): void {
  const abis = [...abiVersions].sort((a, b) => a - b).join(',');
  const ours = [...SUPPORTED_ABIS].sort((a, b) => a - b).join(',');
  if (recordBytes !== RECORD_BYTES || abis !== ours) {
    throw new Error(
      `alps_ghost addon does not match src/native/ghost.ts: record size ${recordBytes} vs ${RECORD_BYTES} bytes, ` +
        `ABIs [${abis}] vs [${ours}]; rebuild it (npx node-gyp rebuild)`,
    );
  }
}

export function createEmulator(opts: EmulatorOptions = {}): Emulator {
  return new (native().Emulator)(opts);
}
export function createClient(opts: ClientOptions = {}): GhostClient {
  return new (native().Client)(opts);
}
/** The queue decoder over arbitrary bytes laid out as a mapped queue (fuzzing and tests). */
export function decodeRing(abi: number, ring: Uint8Array, out: ArrayBuffer): DecodeRingResult {
  return native().decodeRing(abi, ring, out);
}

// ---- batches and views ---------------------------------------------------------------------------

export const RECORD_BYTES = 64;

/** Drained messages: record i lives at bytes [64i, 64i+64). Accessors take the record index. */
export class MessageBatch {
  readonly buffer: ArrayBuffer;
  readonly capacity: number;
  count = 0;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`MessageBatch capacity ${capacity}`);
    this.capacity = capacity;
    this.buffer = new ArrayBuffer(capacity * RECORD_BYTES);
    this.u16 = new Uint16Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
  }
  /** Drain `queue` of `client` into this batch; returns the number of records. */
  drainFrom(client: GhostClient, queue: number): number {
    this.count = client.drain(queue, this.buffer, this.capacity);
    return this.count;
  }
  type(i: number): number {
    return this.u16[i * 32] as number;
  }
  length(i: number): number {
    return this.u16[i * 32 + 1] as number;
  }
  seqnum(i: number): number {
    return this.u32[i * 16 + 1] as number;
  }
  /** Task handle (task messages; 0 = a task this client never saw announced). */
  task(i: number): number {
    return this.u32[i * 16 + 2] as number;
  }
  cpu(i: number): number {
    return this.i32[i * 16 + 3] as number;
  }
  flags(i: number): number {
    return this.u32[i * 16 + 4] as number;
  }
  /** nice (NEW, PRIORITY_CHANGED) | errno (LATCH_FAILURE) | last_ran_cpu (WAKEUP). */
  a(i: number): number {
    return this.i32[i * 16 + 5] as number;
  }
  /** waker_cpu (WAKEUP) | status-word index (NEW). */
  b(i: number): number {
    return this.i32[i * 16 + 6] as number;
  }
  /** status-word region id (NEW). */
  c(i: number): number {
    return this.u32[i * 16 + 7] as number;
  }
  /** runtime ns | commit_time (ON_CPU) | timer type (TIMER_EXPIRED). */
  time(i: number): number {
    return this.f64[i * 8 + 4] as number;
  }
  /** cpu_seqnum | timer cookie (TIMER_EXPIRED). */
  cpuSeq(i: number): number {
    return this.f64[i * 8 + 5] as number;
  }
  /** Low and high 32 bits of the gtid (hot-path friendly). */
  gtidLo(i: number): number {
    return this.u32[i * 16 + 12] as number;
  }
  gtidHi(i: number): number {
    return this.u32[i * 16 + 13] as number;
  }
  /** The raw gtid (not for hot paths: BigInt). */
  gtid(i: number): bigint {
    return (BigInt(this.u32[i * 16 + 13] as number) << 32n) | BigInt(this.u32[i * 16 + 12] as number);
  }
  /** parent_gtid (NEW) | next_gtid (NOT_IDLE) | agent_data (WAKEUP/PREEMPT/YIELD). */
  gtid2(i: number): bigint {
    return (BigInt(this.u32[i * 16 + 15] as number) << 32n) | BigInt(this.u32[i * 16 + 14] as number);
  }
}

export const OP_INTS = 8;
const OP_CPU = 0;
const OP_TARGET = 1;
const OP_TASK_BARRIER = 2;
const OP_AGENT_BARRIER = 3;
const OP_RUN_FLAGS = 4;
const OP_COMMIT_FLAGS = 5;
const OP_STATE = 6;

/** Transactions to open and commit together. */
export class TxnBatch {
  readonly ops: Int32Array;
  readonly capacity: number;
  count = 0;
  constructor(capacity: number) {
    this.capacity = capacity;
    this.ops = new Int32Array(capacity * OP_INTS);
  }
  clear(): void {
    this.count = 0;
  }
  /** Queue a txn: run `target` (task handle, or a Target special) on `cpu`. Returns its index. */
  add(cpu: number, target: number, taskBarrier: number, agentBarrier = 0, runFlags = 0, commitFlags = 0): number {
    if (this.count >= this.capacity) throw new RangeError(`TxnBatch full (${this.capacity})`);
    const i = this.count++;
    const o = i * OP_INTS;
    this.ops[o + OP_CPU] = cpu;
    this.ops[o + OP_TARGET] = target;
    this.ops[o + OP_TASK_BARRIER] = taskBarrier | 0;
    this.ops[o + OP_AGENT_BARRIER] = agentBarrier | 0;
    this.ops[o + OP_RUN_FLAGS] = runFlags;
    this.ops[o + OP_COMMIT_FLAGS] = commitFlags;
    this.ops[o + OP_STATE] = 0;
    return i;
  }
  cpu(i: number): number {
    return this.ops[i * OP_INTS + OP_CPU] as number;
  }
  target(i: number): number {
    return this.ops[i * OP_INTS + OP_TARGET] as number;
  }
  /** The txn's state after `commitWith` (TxnState value). */
  state(i: number): number {
    return this.ops[i * OP_INTS + OP_STATE] as number;
  }
  /** Open every queued txn and submit them with one ioctl; returns the ioctl result. */
  commitWith(client: GhostClient, sync = false): number {
    return this.count === 0 ? 0 : client.commit(this.ops, this.count, sync);
  }
}

/** Zero-copy view of a status-word region (read-only by contract). */
export class StatusWords {
  private readonly u32: Uint32Array;
  private readonly f64Runtime: DataView;
  private readonly start: number;
  readonly capacity: number;
  constructor(buffer: ArrayBuffer) {
    this.u32 = new Uint32Array(buffer);
    this.f64Runtime = new DataView(buffer);
    this.start = (this.u32[3] as number) / 4;
    this.capacity = this.u32[4] as number;
  }
  barrier(index: number): number {
    return this.u32[this.start + index * 8] as number;
  }
  flags(index: number): number {
    return this.u32[this.start + index * 8 + 1] as number;
  }
  /** Cumulative runtime ns the kernel last published (lags while the task runs, §4.4). */
  runtime(index: number): number {
    return Number(this.f64Runtime.getBigUint64((this.start + index * 8 + 6) * 4, true));
  }
  available(): number {
    return this.u32[5] as number;
  }
  /** Byte offset of word `index` in the region. */
  byteOffset(index: number): number {
    return (this.start + index * 8) * 4;
  }
  /** DataView over the whole region (for the u64 fields: gtid @8, switch_time @16, runtime @24). */
  raw(): DataView {
    return this.f64Runtime;
  }
}

/** Zero-copy view of cpu_data: txn states, for reaping asynchronously committed txns. */
export class TxnSlots {
  private readonly i32: Int32Array;
  constructor(buffer: ArrayBuffer) {
    this.i32 = new Int32Array(buffer);
  }
  state(cpu: number): number {
    return this.i32[cpu * 1024 + 2] as number;
  }
  /** cpu_seqnum assigned by the last successful commit (u64, exact below 2^53). */
  cpuSeqnum(cpu: number): number {
    const lo = (this.i32[cpu * 1024 + 10] as number) >>> 0;
    const hi = (this.i32[cpu * 1024 + 11] as number) >>> 0;
    return lo + hi * 2 ** 32;
  }
}
