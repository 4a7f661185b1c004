/**
 * The centralized ghOSt agent (docs/ghost-abi.md §8): one global agent drains the single
 * enclave queue, follows every task through its messages, keeps one runqueue ordered by the
 * Ordering (ALPS rank + vruntime, CFS vruntime, or FIFO), places work on idle CPUs core by core,
 * preempts a task at once for a strictly better-ranked one, otherwise once its protected slice is
 * used and something that orders before it waits, and commits all of a pass's decisions with one
 * batched COMMIT_TXN. It emits an InvocationRecord per task from its
 * own accounting. It is substrate-agnostic: the same code runs against a ghOSt kernel (through the
 * worker in worker.ts) and against the emulated kernel (test/support/emu-machine.ts, tests, benchmark).
 */
import type { FuncId } from '../../core/ids.js';
import type { InvocationRecord } from '../../core/records.js';
import type { Ns } from '../../core/time.js';
import type { Policy } from '../../core/policy.js';
import {
  BIND_STRIDE,
  CommitFlag,
  MessageBatch,
  MsgType,
  RunFlag,
  SwFlag,
  TxnBatch,
  TxnState,
  txnStateName,
  type GhostClient,
  type StatusWords,
} from '../../native/ghost.js';
import { LOOKUP_STRIDE, QueueDecoder } from '../../native/ghost-queue.js';
import { RunQueue } from './runqueue.js';
import { ruleLevel, type Ordering } from './ordering.js';
import { LEVEL_ORDINARY, preempts } from '../../core/alps-rule.js';
import type { FuncResolver } from '../../workload/funcs.js';
import type { CpuTopology } from './topology.js';

const enum TS {
  Blocked = 0,
  Queued = 1,
  Running = 2, // committed to a CPU (latched or running)
  Yielding = 3, // skips one pass (TASK_YIELD, or SW barrier ahead of our token)
  Gone = 4,
}

interface Task {
  handle: number;
  tid: number;
  funcId: FuncId;
  seq: number;
  swIndex: number;
  state: TS;
  cpu: number;
  rank: number;
  vruntime: number;
  runtimeNs: number;
  arrivalNs: Ns;
  firstRunNs: Ns;
  enqueuedNs: Ns;
  blockedAtNs: Ns;
  dispatchNs: Ns;
  /** Protected slice of its current dispatch (cached: the hot loop reads it every pass). */
  sliceNs: Ns;
  /** Escape deadline under the policy of its last place() (Infinity: none): its level is fixed before it. */
  deadlineNs: Ns;
  waitNs: Ns;
  blockedNs: Ns;
  /** Set when the agent's own wakeup took its CPU: the next dispatch continues this slice. */
  resumeSliceFromNs: Ns;
  /** CPU whose fast-path copy (cpuCached) holds this task, or -1. */
  cacheCpu: number;
  /** Consecutive INVALID_* commit failures (an agent bug: the task is dropped after invalidLimit). */
  invalid: number;
  voluntary: number;
  involuntary: number;
  slices: Ns[];
}

export interface GhostAgentOptions {
  client: GhostClient;
  queue: number;
  sw: StatusWords;
  /** Enclave CPUs; the global CPU among them never runs tasks (unless `globalCpuRunsTasks`). */
  cpus: readonly number[];
  globalCpu: number;
  /**
   * The global agent sleeps when it has nothing to do (worker.ts `idleSleepUs`), so its CPU runs
   * enclave tasks too: a commit to it takes effect when the agent blocks. Default false: ghOSt's
   * centralized agent spins and owns its CPU.
   */
  globalCpuRunsTasks?: boolean;
  ordering: Ordering;
  /** ns on the clock the records use (CLOCK_MONOTONIC on a host, virtual time in the emulator). */
  clock: () => Ns;
  funcs?: FuncResolver;
  /** gtid seqnum bits (63 - bits for pid_max_max - 1; 41 by default, §1): TID = gtid >> bits. */
  gtidSeqBits?: number;
  /** Worker CPUs in placement order (e.g. hostCpuOrder: core by core, by LLC); default: `cpus`. */
  cpuOrder?: readonly number[];
  /** INVALID_* failures in a row after which a task is dropped from the runqueue (default 3). */
  invalidLimit?: number;
  /** How often CPUs lost to NO_AGENT / CPU_OFFLINE are probed again (ns, default 100 ms). */
  reprobeNs?: Ns;
  /** Where the agent reports errors it survives (INVALID_* transactions). Default: stderr. */
  onError?: (message: string) => void;
  onRecord?: (r: InvocationRecord) => void;
  /**
   * BOOST_PRIO (a CFS task needs the global agent's CPU): make CPU `to`'s agent thread run this
   * loop from now on and park `from`'s agent, as ghost-userspace's PickNextGlobalCPU does (ping
   * the target's agent, LocalYield on the old CPU). False: it could not; the agent then yields.
   * Without it the agent always yields its CPU until it is idle again (RUN with RTLA_ON_IDLE).
   * The emulator's: emulatedMoveGlobal (emulated.ts).
   */
  moveGlobal?: (from: number, to: number) => boolean;
  /** Core and LLC of each CPU (topology.ts readTopology): the global role moves to the nearest. */
  topology?: ReadonlyMap<number, CpuTopology>;
  /** Called for every committed placement (CPU, task's TID), e.g. to mirror it elsewhere. */
  onPlace?: (cpu: number, tid: number) => void;
  /** Messages per drain call. */
  batchSize?: number;
  /** Commit flags for placements (default: inline, so results are known when commit returns). */
  commitFlags?: number;
}

export interface AgentStats {
  passes: number;
  messages: number;
  decisions: number;
  preemptions: number;
  failures: Record<string, number>;
  /** Decisions skipped because the task's status word was ahead of our token (§8.5 step 6). */
  deferred: number;
  records: number;
  /** Queue overflows seen (fatal: step() throws QueueOverflowError). */
  overflows: number;
  /** INVALID_* transaction results (agent bugs), and tasks dropped because of them. */
  invalid: number;
  dropped: number;
  /** Times the global agent gave its CPU back because of BOOST_PRIO (parked, or moved). */
  boostYields: number;
  /** Times the global role moved to another CPU because of BOOST_PRIO. */
  globalMoves: number;
  /** CPUs currently lost (NO_AGENT / CPU_OFFLINE) and successful re-probes. */
  lostCpus: number;
  reprobed: number;
}

/** TID of a gtid given as two u32 halves (no BigInt on the hot path). */
export function tidOfGtid(lo: number, hi: number, seqBits = 41): number {
  if (seqBits >= 32) return hi >>> (seqBits - 32);
  return Math.floor((hi * 2 ** 32 + lo) / 2 ** seqBits);
}

/**
 * The kernel dropped messages (queue overflow). Lost TASK_DEAD / DEPARTED messages cannot be
 * recovered (status words leak, re-entering tasks stay gated), so, as ghost-userspace does, the
 * agent stops; a new agent attaches and rediscovers the enclave's tasks.
 */
export class QueueOverflowError extends Error {
  override readonly name = 'QueueOverflowError';
  constructor(readonly lost: number) {
    super(
      `ghOSt message queue overflowed (${lost} message(s) lost): the agent's view of its tasks cannot be repaired; ` +
        'stopping. Restart the agent (it re-attaches and rediscovers the tasks) with a larger queue.',
    );
  }
}

/** Handles the agent may give new tasks between two native calls (see the decoder's HandlePool). */
const POOL_HANDLES = 64;

/** Longest a finished task's SW_FREE waits for a commit to ride on (ns on the agent's clock). */
const FREE_DELAY_NS = 1_000_000;

/** Transaction results that mean the agent itself is wrong, not a race. */
const INVALID_STATES: ReadonlySet<number> = new Set([
  TxnState.INVALID_FLAGS,
  TxnState.INVALID_TARGET,
  TxnState.INVALID_CPU,
  TxnState.NOT_PERMITTED,
  TxnState.UNSUPPORTED_VERSION,
  TxnState.BAD_TARGET,
]);

export class GhostAgent {
  private readonly tasks: (Task | undefined)[] = [];
  /**
   * Per CPU, the task placed there by the last successful commit and its slice end
   * (dispatchNs + sliceNs) and rule level (ruleLevel(rank)) at that moment: the pass's fast path
   * reads these instead of the task. Dropped (uncache) whenever one of those fields changes.
   */
  private readonly cpuCached: (Task | undefined)[];
  /**
   * [handle of cpuCached[c] (0: none), slice end, rule level, escape deadline] at cpuFast[4c ..]:
   * the pass's fast path for a CPU reads 32 contiguous bytes of one array.
   */
  private readonly cpuFast: Float64Array;
  private readonly commitFlags: number;
  private readonly rq = new RunQueue();
  private readonly batch: MessageBatch;
  private readonly txns: TxnBatch;
  private readonly cpuTask: Int32Array; // handle committed to each CPU (0 = none)
  private readonly agentSw: Int32Array; // agent status-word index per CPU (-1 = none)
  private readonly unavailable: Uint8Array;
  /** 1 while the last commit to the CPU failed CPU_UNAVAIL (see waitingForCpu). */
  private readonly refused: Uint8Array;
  private readonly workers: number[];
  private readonly yielding: number[] = [];
  /** Scratch of schedule(): tasks deferred this pass (reused: no allocation per pass). */
  private readonly deferred: number[] = [];
  /** head/tail of the queue ring (zero-copy): an empty queue costs no native call. */
  private readonly ring: Uint32Array;
  /** Decodes the queue in JS over its mapping: a drain costs no native call (ghost-queue.ts). */
  private readonly decoder: QueueDecoder;
  /** Handles to SW_FREE, flushed with the pass's commit (one native call for both). */
  private readonly frees: Int32Array;
  private nfree = 0;
  /** Operands of the client's hot calls (hotCalls): ops count, frees count, lookups count, result. */
  private readonly ctl = new Int32Array(4);
  private readonly hotCommit: (() => void) | undefined;
  /** When the oldest pending free was queued: passes without a commit flush after FREE_DELAY_NS. */
  private freeSinceNs = 0;
  private lastOverflow = 0;
  private minVruntime = 0;
  private fifoCounter = 0;
  /** Earliest escape deadline of a queued task (the ALPS rule's tail bound): re-key then. */
  private nextEscapeNs = Infinity;
  readonly stats: AgentStats = {
    passes: 0,
    messages: 0,
    decisions: 0,
    preemptions: 0,
    failures: {},
    deferred: 0,
    records: 0,
    overflows: 0,
    invalid: 0,
    dropped: 0,
    boostYields: 0,
    globalMoves: 0,
    lostCpus: 0,
    reprobed: 0,
  };
  /** Status-word index of the global agent (-1 until it is an agent). */
  private globalSw = -1;
  /** The CPU whose agent thread runs this loop (moves on BOOST_PRIO with moveGlobal). */
  private globalCpuNow: number;
  /** The global agent's barrier as read at the start of the pass (for local commits). */
  private localBarrier = 0;
  /** When lost CPUs are probed next (Infinity: none lost). */
  private nextProbeNs = Infinity;

  constructor(private readonly o: GhostAgentOptions) {
    this.globalCpuNow = o.globalCpu;
    this.batch = new MessageBatch(o.batchSize ?? 512);
    const maxCpu = Math.max(...o.cpus) + 1;
    this.cpuTask = new Int32Array(maxCpu);
    this.agentSw = new Int32Array(maxCpu).fill(-1);
    this.unavailable = new Uint8Array(maxCpu);
    this.refused = new Uint8Array(maxCpu);
    this.cpuCached = new Array<Task | undefined>(maxCpu).fill(undefined);
    this.cpuFast = new Float64Array(maxCpu * 4);
    this.commitFlags = o.commitFlags ?? CommitFlag.AT_TXN_COMMIT;
    this.workers = (o.cpuOrder ?? o.cpus).filter((c) => (o.globalCpuRunsTasks || c !== o.globalCpu) && o.cpus.includes(c));
    this.txns = new TxnBatch(this.workers.length);
    const view = o.client.queueView(o.queue);
    this.ring = new Uint32Array(view, 64, 3);
    const lookups = new Uint32Array(LOOKUP_STRIDE * this.batch.capacity);
    this.frees = new Int32Array(this.batch.capacity);
    // New tasks get handles from a pool the client refills at each call (no native call per new
    // task); more than POOL_HANDLES new tasks between two calls fall back to asking.
    const pool = { handles: new Int32Array(1 + POOL_HANDLES), binds: new Uint32Array(1 + POOL_HANDLES * BIND_STRIDE) };
    o.client.bindBuffers(o.queue, this.batch.buffer, this.txns.ops, lookups, this.frees, pool.handles, pool.binds);
    const hot = o.client.hotCalls?.(this.ctl);
    this.hotCommit = hot?.commit;
    const ctl = this.ctl;
    const resolve = hot
      ? (k: number): void => {
          ctl[2] = k;
          hot.resolve();
        }
      : (k: number): void => o.client.resolveBound(k);
    this.decoder = new QueueDecoder(view, o.client.abiVersion(), this.batch, lookups, resolve, pool);
    this.lastOverflow = this.ring[2] as number;
    for (const c of this.workers) {
      if (c !== o.globalCpu) this.agentSw[c] = o.client.agentSwIndex(c);
      // The global CPU has its agent only once this thread becomes it: probed at the first pass.
      else this.nextProbeNs = 0;
    }
  }

  get ordering(): Ordering {
    return this.o.ordering;
  }

  /** Install a new policy; queued tasks are re-keyed at once, running ones at their next enqueue. */
  setPolicy(policy: Policy): void {
    this.o.ordering.setPolicy(policy);
    // Dispatched tasks keep their old level until their next enqueue: no fast path for them.
    for (const t of this.tasks) {
      if (t && t.state === TS.Running) {
        t.rank = Infinity;
        this.uncache(t);
      }
    }
    this.rekey(this.o.clock());
  }

  /** Re-place every queued task by the ordering at `now` (new policy, or an escape deadline passed). */
  private rekey(now: Ns): void {
    this.nextEscapeNs = Infinity;
    for (const t of this.tasks) {
      if (!t || t.state !== TS.Queued) continue;
      const fairKey = this.o.ordering.fair ? t.vruntime : this.rq.keyOf(t.handle);
      this.place(t, now, fairKey, false);
    }
  }

  /** Queue `t` at its (level, key) under the ALPS rule (src/core/alps-rule.ts) via the Ordering. */
  private place(t: Task, now: Ns, fairKey: number, front: boolean): void {
    const ordering = this.o.ordering;
    const level = ordering.positionInto(t.funcId, t.arrivalNs, fairKey, now);
    t.rank = level;
    if (t.cacheCpu >= 0) this.uncache(t);
    this.rq.push(t.handle, level, ordering.posKey, front);
    const d = ordering.posDeadlineNs;
    t.deadlineNs = d;
    if (d > now && d < this.nextEscapeNs) this.nextEscapeNs = d;
  }

  /** Make `t` (just placed on `c`) the fast path's copy for `c` (see cpuCached). */
  private cache(c: number, t: Task): void {
    if (t.cacheCpu >= 0) this.uncache(t);
    const old = this.cpuCached[c];
    if (old) old.cacheCpu = -1;
    this.cpuCached[c] = t;
    const f = this.cpuFast;
    f[4 * c] = t.handle;
    f[4 * c + 1] = t.dispatchNs + t.sliceNs;
    f[4 * c + 2] = ruleLevel(t.rank);
    f[4 * c + 3] = t.deadlineNs;
    t.cacheCpu = c;
  }

  private uncache(t: Task): void {
    if (t.cacheCpu >= 0 && this.cpuCached[t.cacheCpu] === t) {
      this.cpuCached[t.cacheCpu] = undefined;
      this.cpuFast[4 * t.cacheCpu] = 0;
    }
    t.cacheCpu = -1;
  }

  /** Tasks the agent currently tracks. */
  get taskCount(): number {
    let n = 0;
    for (const t of this.tasks) if (t) n++;
    return n;
  }

  /**
   * Earliest time a running task may have to be preempted: when the head of the runqueue would
   * displace it under the rule (src/core/alps-rule.ts) — at the end of its protected slice if the
   * head orders before it then, or, at equal ordinary levels, once its growing vruntime passes
   * the head's — or when its level changes (its escape deadline), or a queued task's escape
   * deadline (re-key); now while messages are unread. Infinity while nothing waits: only a
   * message can make work runnable, and it wakes a sleeping agent, so a slice end with nothing
   * to hand the CPU to needs no wakeup.
   */
  nextDeadline(): Ns {
    // Unread messages: the next pass is due now (a driver that is not woken by its queue, like
    // the emulated machine's loop, must not skip them).
    if (this.ring[0] !== this.ring[1]) return this.o.clock();
    const head = this.rq.peek();
    if (head < 0) return Infinity;
    const now = this.o.clock();
    const ordering = this.o.ordering;
    const headRank = this.rq.rankOf(head);
    const headLevel = ruleLevel(headRank);
    let d = this.nextEscapeNs;
    for (const c of this.workers) {
      const h = this.cpuTask[c] as number;
      const t = h ? this.tasks[h] : undefined;
      // A CPU whose last commit failed CPU_UNAVAIL: retrying before it is free only fails again
      // (the backend pings when it is; waitingForCpu's poll covers the others).
      if (!t || this.refused[c]) continue;
      // schedule()'s test, evaluated at the slice end (or now, once the slice is used).
      const at = Math.max(t.dispatchNs + t.sliceNs, now + 1);
      const vLevel = ordering.positionInto(t.funcId, t.arrivalNs, ordering.fair ? t.vruntime + (at - t.dispatchNs) : Infinity, at);
      if (preempts(headLevel, ruleLevel(vLevel)) || this.rq.before(head, vLevel, ordering.posKey)) {
        d = Math.min(d, at);
        continue;
      }
      // Its level changes when its escape deadline passes (ranked -> overdue).
      if (ordering.posDeadlineNs > at) d = Math.min(d, ordering.posDeadlineNs);
      // Keys compare vruntimes only at the ordinary level (ranked: arrival; overdue: deadline).
      if (ordering.fair && headRank === vLevel && ruleLevel(vLevel) === LEVEL_ORDINARY) {
        d = Math.min(d, Math.max(at, t.dispatchNs + (this.rq.keyOf(head) - t.vruntime) + 1));
      }
    }
    return d;
  }

  /**
   * Whether a task waits while some worker CPU has nothing committed, and who says when to try
   * again: 0 nobody waits; 2 every such CPU refused the last commit with CPU_UNAVAIL (a CFS task
   * holds it; the sched_ext backend pings the agent when it is free, so a sleeping agent needs
   * only a long safety poll); 1 otherwise (a deferred task, a CPU not tried yet, or a kernel
   * that sends no such ping): a sleeping agent must poll soon.
   */
  waitingForCpu(): 0 | 1 | 2 {
    if (this.rq.peek() < 0) return 0;
    let w: 0 | 1 | 2 = 0;
    for (const c of this.workers) {
      if (this.cpuTask[c] || (this.agentSw[c] as number) < 0) continue;
      if (!this.refused[c]) return 1;
      w = 2;
    }
    return w;
  }

  /** One agent iteration: drain, decide, commit. Returns the number of successful decisions. */
  step(): number {
    this.stats.passes++;
    if (this.globalSw < 0 && ((this.stats.passes & 1023) === 1 || this.o.globalCpuRunsTasks)) this.findGlobalSw();
    if (this.globalSw >= 0 && (this.o.sw.flags(this.globalSw) & SwFlag.BOOST_PRIO) !== 0) return this.onBoost();
    const now = this.o.clock();
    if (now >= this.nextProbeNs) this.reprobe(now);
    // A commit to the agent's own CPU is a local commit: it carries the agent barrier read
    // before this pass's drain (ghost-abi §6.6), so a message that arrived since fails it.
    if (this.o.globalCpuRunsTasks && this.globalSw >= 0) this.localBarrier = this.o.sw.barrier(this.globalSw);
    // Messages are handled in place in the queue mapping (decoder.next): no record per message.
    const dec = this.decoder;
    const cap = this.batch.capacity;
    while (this.ring[0] !== this.ring[1]) {
      dec.begin(cap);
      let n = 0;
      for (let p = dec.next(); p >= 0; p = dec.next()) {
        this.handle(dec.type, dec.task, dec.seq, p, now);
        n++;
      }
      this.stats.messages += n;
      if (n < cap) break;
    }
    if (this.ring[2] !== this.lastOverflow) {
      const lost = ((this.ring[2] as number) - this.lastOverflow) >>> 0;
      this.lastOverflow = this.ring[2] as number;
      this.stats.overflows += lost;
      this.flushFrees();
      throw new QueueOverflowError(lost);
    }
    return this.schedule(now);
  }

  private findGlobalSw(): void {
    try {
      this.globalSw = this.o.client.agentSwIndex(this.globalCpuNow);
    } catch {
      this.globalSw = -1; // not an agent yet (or no more)
    }
  }

  /** The CPU whose agent thread currently runs the global loop. */
  get globalCpu(): number {
    return this.globalCpuNow;
  }

  /**
   * BOOST_PRIO: a CFS (or RT) task wants the global agent's CPU. With moveGlobal the role moves to
   * the nearest enclave CPU that is available (a sibling, then the same LLC, then any; an idle one
   * first) and scheduling goes on from there; otherwise, or with no such CPU, the agent yields.
   */
  private onBoost(): number {
    this.stats.boostYields++;
    const move = this.o.moveGlobal;
    if (move) {
      const to = this.pickNextGlobalCpu();
      if (to >= 0 && move(this.globalCpuNow, to)) {
        this.adoptGlobal(to);
        return 0;
      }
    }
    return this.yieldCpu();
  }

  /** ghost-userspace PickNextGlobalCPU: nearest available worker CPU, skipping boosted ones. */
  private pickNextGlobalCpu(): number {
    const topo = this.o.topology;
    const here = topo?.get(this.globalCpuNow);
    let best = -1;
    let bestRank = Infinity;
    for (const c of this.workers) {
      const ai = this.agentSw[c] as number;
      if (ai < 0 || this.unavailable[c]) continue;
      const f = this.o.sw.flags(ai);
      if ((f & SwFlag.CPU_AVAIL) === 0 || (f & SwFlag.BOOST_PRIO) !== 0) continue;
      const t = topo?.get(c);
      const distance = here && t ? (t.core === here.core ? 0 : t.llc === here.llc ? 1 : 2) : 2;
      // An idle CPU first: moving there preempts nobody.
      const rank = distance * 2 + (this.cpuTask[c] ? 1 : 0);
      if (rank < bestRank) {
        best = c;
        bestRank = rank;
      }
    }
    return best;
  }

  /** The loop now runs on `to`'s agent thread; the old global CPU becomes a worker in its place. */
  private adoptGlobal(to: number): void {
    const from = this.globalCpuNow;
    this.workers[this.workers.indexOf(to)] = from;
    this.agentSw[from] = this.globalSw; // its agent stays, parked: tasks run there once CFS leaves
    this.globalSw = this.agentSw[to] as number;
    this.agentSw[to] = -1;
    this.globalCpuNow = to;
    this.stats.globalMoves++;
    // What ran on `to` is preempted by its agent; its TASK_PREEMPT releases the CPU (offCpu).
  }

  /** Give the CPU back by parking in RUN with RTLA_ON_IDLE: run again once it has nothing else. */
  private yieldCpu(): number {
    const barrier = this.o.sw.barrier(this.globalSw);
    // ESTALE (a message arrived since the barrier was read) just means: run another pass.
    this.o.client.run(0, barrier, this.globalCpuNow, RunFlag.RTLA_ON_IDLE);
    return 0;
  }

  /** SW_FREE the first `nfree` bound frees, then commit `n` ops: one native call. */
  private commitNative(n: number, nfree: number): void {
    const hot = this.hotCommit;
    if (hot !== undefined) {
      this.ctl[0] = n;
      this.ctl[1] = nfree;
      hot();
    } else {
      this.o.client.commitBound(n, false, nfree);
    }
  }

  /** SW_FREE the handles of finished tasks now (normally they ride on the pass's commit). */
  private flushFrees(): void {
    this.commitNative(0, this.nfree);
    this.nfree = 0;
  }

  /** Probe CPUs lost to NO_AGENT / CPU_OFFLINE again: a new agent or a replugged CPU is reused. */
  private reprobe(now: Ns): void {
    let lost = 0;
    for (const c of this.workers) {
      if ((this.agentSw[c] as number) >= 0) continue;
      try {
        this.agentSw[c] = this.o.client.agentSwIndex(c);
        this.stats.reprobed++;
      } catch {
        lost++;
      }
    }
    this.stats.lostCpus = lost;
    this.nextProbeNs = lost ? now + (this.o.reprobeNs ?? 100_000_000) : Infinity;
  }

  // ---- messages (§8.3) -----------------------------------------------------------------------

  /**
   * One message: `type`, task handle `h` (0: a CPU message, or a task this client never saw
   * announced), seqnum `seq`, payload at `p` in the queue mapping (fields through the decoder).
   */
  private handle(type: number, h: number, seq: number, p: number, now: Ns): void {
    const dec = this.decoder;
    if (type >= 128) {
      if (type === MsgType.CPU_BUSY || type === MsgType.CPU_AVAILABLE) {
        const cpu = dec.cpuMsgCpuAt(p);
        if (cpu >= 0 && cpu < this.unavailable.length) this.unavailable[cpu] = type === MsgType.CPU_BUSY ? 1 : 0;
      }
      return;
    }
    if (h === 0) return; // a task we never saw announced (counted by the decoder)
    if (type === MsgType.TASK_NEW) {
      this.onNew(h, seq, p, now);
      return;
    }
    const t = this.tasks[h];
    if (!t) return;
    t.seq = seq;
    switch (type) {
      case MsgType.TASK_WAKEUP:
        if (t.state === TS.Blocked) {
          t.blockedNs += now - t.blockedAtNs;
          t.vruntime = Math.max(t.vruntime, this.minVruntime);
          this.enqueue(t, now, !dec.wakeupDeferrableAt(p));
        }
        break;
      case MsgType.TASK_BLOCKED:
      case MsgType.TASK_SWITCHTO:
        this.offCpu(t, dec.runtimeAt(p), now);
        this.rq.remove(t.handle);
        t.voluntary++;
        t.state = TS.Blocked;
        t.blockedAtNs = now;
        break;
      case MsgType.TASK_PREEMPT: {
        const wasLatched = dec.preemptWasLatchedAt(p);
        // With a sleeping global agent, a preemption is mostly the agent's own wakeup taking
        // a CPU from the task there (CFS outranks the enclave), or another CFS thread: not a
        // scheduling decision, so the task goes back first with the slice it had.
        const byAgent = this.o.globalCpuRunsTasks === true;
        const dispatched = t.dispatchNs;
        this.offCpu(t, dec.runtimeAt(p), now);
        if (!wasLatched && !byAgent) t.involuntary++;
        if (t.state !== TS.Blocked) this.enqueue(t, now, wasLatched || byAgent);
        if (byAgent) t.resumeSliceFromNs = dispatched;
        break;
      }
      case MsgType.TASK_YIELD:
        this.offCpu(t, dec.runtimeAt(p), now);
        t.voluntary++;
        this.rq.remove(t.handle);
        t.state = TS.Yielding;
        t.enqueuedNs = now;
        this.yielding.push(t.handle);
        break;
      case MsgType.TASK_DEAD:
        this.finish(t, now, true);
        break;
      case MsgType.TASK_DEPARTED:
        this.offCpu(t, t.runtimeNs, now);
        this.finish(t, now, false);
        break;
      default:
        // AFFINITY_CHANGED / PRIORITY_CHANGED / ON_CPU / LATCH_FAILURE: the token moved (above);
        // a running task the kernel kicks off for an affinity change arrives as TASK_PREEMPT.
        break;
    }
  }

  private onNew(h: number, seq: number, p: number, now: Ns): void {
    const dec = this.decoder;
    const known = this.tasks[h];
    if (known) {
      // Re-announced (discovery after an overflow or an agent handoff): refresh token and state.
      known.seq = seq;
      known.swIndex = dec.newSwIndexAt(p);
      const runnable = dec.newRunnableAt(p);
      if (runnable && known.state === TS.Blocked) this.enqueue(known, now, false);
      else if (!runnable && known.state === TS.Queued) {
        this.rq.remove(h);
        known.state = TS.Blocked;
        known.blockedAtNs = now;
      }
      return;
    }
    const tid = tidOfGtid(dec.gtidLoAt(p), dec.gtidHiAt(p), this.o.gtidSeqBits);
    const funcId = this.o.funcs?.resolve(tid) ?? 0;
    const t: Task = {
      handle: h,
      tid,
      funcId,
      seq,
      swIndex: dec.newSwIndexAt(p),
      state: TS.Blocked,
      cpu: -1,
      rank: this.o.ordering.rank(funcId),
      vruntime: this.minVruntime,
      runtimeNs: dec.newRuntimeAt(p),
      arrivalNs: now,
      firstRunNs: -1,
      enqueuedNs: now,
      blockedAtNs: now,
      dispatchNs: now,
      sliceNs: this.o.ordering.sliceNs(funcId),
      deadlineNs: Infinity,
      resumeSliceFromNs: -1,
      cacheCpu: -1,
      waitNs: 0,
      blockedNs: 0,
      invalid: 0,
      voluntary: 0,
      involuntary: 0,
      slices: [],
    };
    this.tasks[h] = t;
    if (dec.newRunnableAt(p)) this.enqueue(t, now, false);
  }

  private enqueue(t: Task, now: Ns, front: boolean): void {
    t.state = TS.Queued;
    t.enqueuedNs = now;
    t.cpu = -1;
    this.place(t, now, this.o.ordering.fair ? t.vruntime : ++this.fifoCounter, front);
  }

  /** The task left its CPU: account the slice and release the CPU if it still holds it. */
  private offCpu(t: Task, runtimeNs: number, now: Ns): void {
    if (t.state !== TS.Running) return;
    const delta = Math.max(0, runtimeNs - t.runtimeNs);
    t.runtimeNs = Math.max(t.runtimeNs, runtimeNs);
    t.vruntime += delta;
    if (delta > 0) t.slices.push(delta);
    if (t.cpu >= 0 && this.cpuTask[t.cpu] === t.handle) this.cpuTask[t.cpu] = 0;
    t.cpu = -1;
    t.dispatchNs = now;
    if (t.cacheCpu >= 0) this.uncache(t);
  }

  private finish(t: Task, now: Ns, dead: boolean): void {
    if (t.cpu >= 0 && this.cpuTask[t.cpu] === t.handle) this.cpuTask[t.cpu] = 0;
    this.rq.remove(t.handle);
    t.state = TS.Gone;
    this.tasks[t.handle] = undefined;
    if (t.cacheCpu >= 0) this.uncache(t);
    // Free the status word so a re-entering task is not gated forever (§11 item 7); batched
    // with this pass's commit.
    this.decoder.forget(t.handle);
    if (this.nfree === 0) this.freeSinceNs = now;
    this.frees[this.nfree++] = t.handle;
    if (this.nfree === this.frees.length) this.flushFrees();
    if (!dead || !this.o.onRecord || t.funcId === 0) return;
    const name = this.o.funcs?.nameOf(t.funcId);
    const rec: InvocationRecord = {
      funcId: t.funcId,
      arrivalNs: t.arrivalNs,
      endNs: now,
      cpuNs: t.runtimeNs,
      firstWaitNs: t.firstRunNs >= 0 ? t.firstRunNs - t.arrivalNs : now - t.arrivalNs,
      waitNs: t.waitNs,
      blockedNs: t.blockedNs,
      voluntarySwitches: t.voluntary,
      involuntarySwitches: t.involuntary,
      slicesNs: t.slices,
    };
    if (name !== undefined) rec.name = name;
    this.stats.records++;
    this.o.onRecord(rec);
  }

  // ---- the scheduling pass (§8.4) -------------------------------------------------------------

  private schedule(now: Ns): number {
    const { sw, ordering } = this.o;
    if (now >= this.nextEscapeNs) this.rekey(now);
    const txns = this.txns;
    txns.clear();
    const deferred = this.deferred;
    if (deferred.length !== 0) deferred.length = 0; // (setting length is a runtime call)
    const rq = this.rq;
    let head = rq.peek();
    // Nothing waits: no CPU gets work and nothing is preempted (pickRunnable only pops).
    if (head >= 0) {
      let headLevel = ruleLevel(rq.rankOf(head));
      const { workers, agentSw, unavailable, cpuTask, tasks, cpuCached, cpuFast } = this;
      const commitFlags = this.commitFlags;
      for (let wi = 0; wi < workers.length; wi++) {
        const c = workers[wi] as number;
        const cur = cpuTask[c] as number;
        // Fast path, before the CPU's status word is read: its task is inside its slice and the
        // head's level does not preempt it — nothing happens to this CPU whatever the word says.
        // Inside its slice only a strictly lower level displaces a task, and a task's level never
        // rises while it waits or runs (it can only become overdue), so its level at its last
        // enqueue (t.rank) bounds its level now. Read from the per-CPU copy of
        // (dispatchNs + sliceNs, ruleLevel(rank)) made when it was placed (cache()), valid while
        // it is the same task and none of the three changed since.
        // (A cached task is alive: finish() uncaches, so its handle still names it in `tasks`.)
        // And when the head's level does preempt it: before the task's escape deadline its level
        // is still the cached one (it turns overdue only at the deadline; a policy change uncaches
        // it), so it is displaced without reading the task or recomputing its position.
        let displaced = false;
        if (cur !== 0 && cpuFast[4 * c] === cur && now < (cpuFast[4 * c + 1] as number)) {
          if (!preempts(headLevel, cpuFast[4 * c + 2] as number)) continue;
          displaced = now < (cpuFast[4 * c + 3] as number);
        }
        const ai = agentSw[c] as number;
        if (ai < 0 || (sw.flags(ai) & SwFlag.CPU_AVAIL) === 0 || unavailable[c]) continue;
        let victim: Task | undefined;
        if (displaced) {
          victim = cpuCached[c];
        } else if (cur) {
          victim = tasks[cur];
          // (=== undefined, not !victim: truthiness reads the object's map, a cache miss the fast
          // path below otherwise never takes.)
          if (victim === undefined) {
            cpuTask[c] = 0;
          } else {
            // The ALPS rule (src/core/alps-rule.ts `displaces`): a strictly lower level preempts at
            // once; otherwise the task is protected until its slice is used, then only something
            // that orders before it wins. (The same fast path as above, for a task not cached.)
            if (victim !== cpuCached[c] && now - victim.dispatchNs < victim.sliceNs && !preempts(headLevel, ruleLevel(victim.rank))) continue;
            const ran = now - victim.dispatchNs;
            const vLevel = ordering.positionInto(victim.funcId, victim.arrivalNs, ordering.fair ? victim.vruntime + ran : Infinity, now);
            if (!preempts(headLevel, ruleLevel(vLevel)) && !(ran >= victim.sliceNs && rq.before(head, vLevel, ordering.posKey))) continue;
          }
        }
        // No runnable work at all (it was all popped or deferred): the other CPUs stay as they are.
        const next = this.pickRunnable(deferred);
        if (!next) break;
        next.state = TS.Running;
        next.cpu = c;
        if (victim) this.stats.preemptions++;
        txns.add(c, next.handle, next.seq, c === this.globalCpuNow ? this.localBarrier : 0, 0, commitFlags);
        head = rq.peek();
        if (head < 0) break;
        headLevel = ruleLevel(rq.rankOf(head));
      }
    }
    for (let i = 0; i < deferred.length; i++) {
      const h = deferred[i] as number;
      const t = this.tasks[h];
      if (t && t.state === TS.Yielding) this.enqueue(t, now, true);
    }
    const yielding = this.yielding;
    for (let i = 0; i < yielding.length; i++) {
      const t = this.tasks[yielding[i] as number];
      if (t && t.state === TS.Yielding) this.enqueue(t, now, false);
    }
    if (yielding.length !== 0) yielding.length = 0;
    if (txns.count === 0) {
      // Frees ride on the next commit; without one they wait at most FREE_DELAY_NS (or until
      // nothing is runnable), so an idle agent does not keep dead tasks' words allocated.
      if (this.nfree && (now - this.freeSinceNs >= FREE_DELAY_NS || this.rq.size === 0)) this.flushFrees();
      return 0;
    }
    this.commitNative(txns.count, this.nfree);
    this.nfree = 0;
    return this.reap(now);
  }

  /** Head of the runqueue whose status word agrees with our token and is off CPU. */
  private pickRunnable(deferred: number[]): Task | undefined {
    const sw = this.o.sw;
    for (;;) {
      const h = this.rq.pop();
      if (h < 0) return undefined;
      const t = this.tasks[h];
      if (t === undefined) continue;
      const flags = sw.flags(t.swIndex);
      if (sw.barrier(t.swIndex) !== t.seq || (flags & SwFlag.TASK_ONCPU) !== 0) {
        // An unread message or a task still leaving its old CPU: try again next pass.
        t.state = TS.Yielding;
        deferred.push(h);
        this.stats.deferred++;
        continue;
      }
      return t;
    }
  }

  private reap(now: Ns): number {
    const txns = this.txns;
    let ok = 0;
    for (let i = 0; i < txns.count; i++) {
      const c = txns.cpu(i);
      const t = this.tasks[txns.target(i)];
      const s = txns.state(i);
      this.refused[c] = s === TxnState.CPU_UNAVAIL ? 1 : 0;
      if (!t) continue;
      if (s === TxnState.COMPLETE || s === TxnState.READY) {
        // READY: a greedy/at-schedule commit the target CPU completes itself.
        const prev = this.cpuTask[c] as number;
        if (prev && prev !== t.handle) {
          const p = this.tasks[prev];
          // The displaced task's TASK_PREEMPT is on its way; until then it holds no CPU.
          if (p && p.cpu === c) p.cpu = -1;
        }
        this.cpuTask[c] = t.handle;
        t.invalid = 0;
        t.waitNs += now - t.enqueuedNs;
        if (t.firstRunNs < 0) t.firstRunNs = now;
        t.dispatchNs = t.resumeSliceFromNs >= 0 ? t.resumeSliceFromNs : now;
        t.resumeSliceFromNs = -1;
        t.sliceNs = this.o.ordering.sliceNs(t.funcId);
        this.cache(c, t);
        if (t.vruntime > this.minVruntime) this.minVruntime = t.vruntime;
        this.o.onPlace?.(c, t.tid);
        ok++;
        continue;
      }
      const name = txnStateName(s);
      this.stats.failures[name] = (this.stats.failures[name] ?? 0) + 1;
      t.state = TS.Blocked;
      t.cpu = -1;
      switch (s) {
        case TxnState.TARGET_NOT_RUNNABLE:
        case TxnState.TARGET_NOT_FOUND:
          // Its BLOCKED / DEAD message is in flight: wait for it.
          break;
        case TxnState.NO_AGENT:
        case TxnState.CPU_OFFLINE:
          // Stop placing work there; reprobe() tries the CPU again later.
          if ((this.agentSw[c] as number) >= 0) this.stats.lostCpus++;
          this.agentSw[c] = -1;
          if (this.nextProbeNs === Infinity) this.nextProbeNs = now + (this.o.reprobeNs ?? 100_000_000);
          this.enqueue(t, now, true);
          break;
        default:
          if (INVALID_STATES.has(s)) {
            // An agent bug, not a race: retrying cannot help forever. Report it; after
            // invalidLimit in a row the task leaves the runqueue until its next message.
            this.stats.invalid++;
            t.invalid++;
            const drop = t.invalid >= (this.o.invalidLimit ?? 3);
            if (drop) this.stats.dropped++;
            (this.o.onError ?? defaultOnError)(
              `ghOSt agent: commit of task ${t.tid} to CPU ${c} failed with ${name}` +
                (drop ? ` ${t.invalid} times in a row: dropped from the runqueue until its next message` : ''),
            );
            if (drop) break;
          }
          // STALE / ONCPU / POISONED / ABORTED / NOT_OPENED: a race; retry at once.
          this.enqueue(t, now, true);
      }
    }
    this.stats.decisions += ok;
    return ok;
  }

  /** Re-check CPU availability flags (after CPU_AVAILABLE for a CPU marked by CPU_UNAVAIL). */
  refreshCpu(cpu: number): void {
    this.unavailable[cpu] = 0;
    if ((this.agentSw[cpu] as number) < 0) this.agentSw[cpu] = this.o.client.agentSwIndex(cpu);
  }
}

function defaultOnError(message: string): void {
  process.stderr.write(message + '\n');
}
