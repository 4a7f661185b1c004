/**
 * Worker-thread entry of the global ghOSt agent on a real kernel. The worker thread itself
 * becomes the agent of the global CPU and spins: drain, decide, commit. It never yields to its
 * event loop while running; the main thread talks to it over a MessagePort polled synchronously
 * (receiveMessageOnPort) every few hundred iterations: new policies in, invocation records out.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { InvocationRecord } from '../../core/records.js';
import type { Policy } from '../../core/policy.js';
import { GhostAgent, QueueOverflowError } from './agent.js';
import { hostCpuOrder } from './topology.js';
import { hostGtidSeqBits } from './gtid.js';
import { makeOrdering, type AgentPolicyKind } from './ordering.js';
import { ProcResolver } from '../../workload/funcs.js';
import { setUpHostAgent, type HostAgentConfig } from './host-setup.js';
import { CommFuncResolver } from './comm-funcs.js';

export interface WorkerConfig extends HostAgentConfig {
  policy: AgentPolicyKind;
  defaultSliceNs?: number;
  registryDir?: string;
  cgroupMap?: Record<string, string>;
  initialPolicy?: Policy;
  /** Destroy a created enclave on exit (tasks return to CFS). */
  destroyOnExit?: boolean;
  /**
   * 0 (default): the global agent spins and owns its CPU (ghOSt's centralized model). N > 0: a
   * pass that read no message and placed nothing sleeps until the next slice deadline, at most
   * N µs, and the global CPU runs enclave tasks while the agent sleeps (`globalCpuRunsTasks`).
   * For a small machine where a spinning agent would take a large share of the CPUs.
   */
  idleSleepUs?: number;
  /** Resolve a task's function from its comm "alps-f<ID>" (alps-invoke --sched-ext) first. */
  commFuncs?: boolean;
  /**
   * Run against the emulated kernel with this `Emulator.id()` as process `pid` (this thread is
   * thread `tid`; satellites are threads tid * 1000 + cpu). Tests and benchmarks only.
   */
  emulator?: { id: number; pid: number; tid: number };
  port: MessagePort;
}

/**
 * What a sleeping agent's loop did between passes (idleSleepUs > 0): where its wakeups come
 * from. A RUN is limited by the 1-ms poll while a task waits for a refused CPU (`runsPoll`), by
 * the next slice deadline (`runsDeadline`), or by the stats flush (`runsFlush`); it returns
 * early when a message or ping wakes the agent (`woken`) or at once with ESTALE (`stale`).
 * `spins`: idle passes whose wait was too short to sleep (the loop goes again at once).
 */
export interface LoopStats {
  idlePasses: number;
  runs: number;
  runsPoll: number;
  runsDeadline: number;
  runsFlush: number;
  woken: number;
  stale: number;
  spins: number;
  sleptNs: number;
  /** Wall time inside agent.step() (the passes) and in the periodic flush (records, stats, reload). */
  stepNs: number;
  flushNs: number;
}

export type ToWorker = { type: 'policy'; policy: Policy } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; enclaveId: number; abi: number; cpus: number[]; globalCpu: number; created: boolean }
  | { type: 'records'; records: InvocationRecord[] }
  | { type: 'stats'; stats: GhostAgent['stats']; generation: number; loop?: LoopStats }
  | { type: 'stopped'; reason: string };

/** Safety poll while every free CPU refused the last commit and the backend pings on release. */
const REFUSED_POLL_NS = 20_000_000;

function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}

function main(cfg: WorkerConfig): void {
  const port = cfg.port;
  const send = (m: FromWorker): void => port.postMessage(m);
  const emu = cfg.emulator;
  const setup = setUpHostAgent(cfg, emu ? { emulator: emu.id, pid: emu.pid, tid: emu.tid } : cfg.scx ? { scx: cfg.scx } : {});
  const { client } = setup;
  const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  // Satellites must be agents before their status words can be looked up.
  for (let waited = 0; ; waited += 5) {
    const st = client.satelliteStatus();
    const failed = st.find(([, s]) => s < 0);
    if (failed) throw new Error(`satellite agent of CPU ${failed[0]}: become agent failed (errno ${-failed[1]})`);
    if (st.every(([, s]) => s === 1)) break;
    if (waited > 10_000) throw new Error('satellite agents did not come up within 10 s');
    sleep(5);
  }
  const procFuncs = new ProcResolver(cfg.registryDir, cfg.cgroupMap ?? {});
  const funcs = cfg.commFuncs ? new CommFuncResolver(procFuncs) : procFuncs;
  const idleNs = Math.max(0, (cfg.idleSleepUs ?? 0) * 1000);
  // Only the sched_ext backend pings the agent when a CPU that refused a commit is free.
  const refusedPings = cfg.scx !== undefined && !emu;
  // Records and stats go to the main thread every 100 ms; a sleeping agent batches them per
  // second: on a small (or emulated) machine each round costs the workload CPU time.
  const flushNs = idleNs > 0 ? 1_000_000_000 : 100_000_000;
  let pending: InvocationRecord[] = [];
  const agent = new GhostAgent({
    client,
    queue: setup.queue,
    sw: setup.sw,
    cpus: setup.cpus,
    globalCpu: setup.globalCpu,
    globalCpuRunsTasks: idleNs > 0,
    ordering: makeOrdering(cfg.policy, cfg.defaultSliceNs),
    // The emulator's clock is its virtual time; its kernel uses the default pid_max_max.
    clock: emu ? () => client.clockNs() : monotonicNs,
    funcs,
    onRecord: (r) => pending.push(r),
    ...(emu ? {} : { gtidSeqBits: hostGtidSeqBits(), cpuOrder: hostCpuOrder(setup.cpus) }),
  });
  if (cfg.initialPolicy) agent.setPolicy(cfg.initialPolicy);
  // A sleeping agent is woken by its queue: every message names the global CPU's agent
  // (configured before it becomes the agent: the sched_ext backend then leaves it unpinned).
  if (idleNs > 0) client.configQueueWakeup(setup.queue, [setup.globalCpu]);
  // Become the global agent last: from here on this thread must not open enclave files.
  let rc = client.becomeAgent(setup.globalCpu, setup.queue);
  for (let i = 0; rc === -16 /* EBUSY */ && i < 2000; i++) {
    sleep(5);
    rc = client.becomeAgent(setup.globalCpu, setup.queue);
  }
  if (rc !== 0) throw new Error(`become agent ${setup.globalCpu}: errno ${-rc}`);
  const globalSw = idleNs > 0 ? client.agentSwIndex(setup.globalCpu) : -1;
  send({ type: 'ready', enclaveId: setup.enclaveId, abi: setup.abi, cpus: setup.cpus, globalCpu: setup.globalCpu, created: setup.created });
  let lastFlush = monotonicNs();
  const loop: LoopStats = { idlePasses: 0, runs: 0, runsPoll: 0, runsDeadline: 0, runsFlush: 0, woken: 0, stale: 0, spins: 0, sleptNs: 0, stepNs: 0, flushNs: 0 };
  let reason = 'stopped';
  for (let iter = 0; ; iter++) {
    let idle = false;
    // Read before the pass drains the queue (ghOSt's RUN protocol): a message after this read
    // makes the RUN below return ESTALE instead of sleeping on it.
    const barrier = globalSw >= 0 ? setup.sw.barrier(globalSw) : 0;
    try {
      const seen = agent.stats.messages;
      const t0 = monotonicNs();
      idle = agent.step() === 0 && agent.stats.messages === seen;
      loop.stepNs += monotonicNs() - t0;
    } catch (e) {
      // A queue overflow is fatal (as in ghost-userspace): leave cleanly and say why.
      if (!(e instanceof QueueOverflowError)) throw e;
      reason = e.message;
      break;
    }
    if (idle && idleNs > 0) {
      // Block in RUN until a message wakes this CPU's agent (the queue's wakeup names it), the
      // next slice deadline, or — while a task waits for a refused CPU — idleNs; at most flushNs
      // so records and stats still flow. ESTALE: a message came after `barrier`: go again.
      const now = monotonicNs();
      // A task waiting for a CPU that refused it (CPU_UNAVAIL) is woken by the backend's ping
      // when that CPU is free; the poll is then only a safety net (a ping lost to a race).
      const waiting = agent.waitingForCpu();
      const poll = waiting !== 0;
      const limit = !poll ? flushNs : waiting === 2 && refusedPings ? Math.min(flushNs, REFUSED_POLL_NS) : idleNs;
      const deadlineNs = agent.nextDeadline() - now;
      // A deadline (all but) due that this idle pass did not act on (its CPU is busy with a CFS
      // task, or not available to the enclave) is retried after idleNs, not at once: that spins.
      const waitNs = Math.min(limit, deadlineNs > 20_000 ? deadlineNs : idleNs);
      loop.idlePasses++;
      if (waitNs > 20_000) {
        loop.runs++;
        if (deadlineNs < limit) loop.runsDeadline++;
        else if (poll) loop.runsPoll++;
        else loop.runsFlush++;
        const rc = client.run(0, barrier, setup.globalCpu, 0, Math.ceil(waitNs / 1000));
        const slept = monotonicNs() - now;
        loop.sleptNs += slept;
        if (rc === -116 /* ESTALE */) loop.stale++;
        else if (slept < waitNs - 100_000) loop.woken++;
      } else {
        loop.spins++;
      }
    }
    if ((iter & 255) !== 0 && !(idleNs > 0 && idle)) continue;
    const msg = receiveMessageOnPort(port)?.message as ToWorker | undefined;
    if (msg?.type === 'stop') break;
    if (msg?.type === 'policy') agent.setPolicy(msg.policy);
    const now = monotonicNs();
    if (now - lastFlush > flushNs) {
      lastFlush = now;
      if (pending.length) {
        send({ type: 'records', records: pending });
        pending = [];
      }
      send({ type: 'stats', stats: agent.stats, generation: agent.ordering.generation, ...(idleNs > 0 ? { loop } : {}) });
      funcs.reload();
      const dead = client.satelliteStatus().find(([, st]) => st < 0);
      if (dead) {
        reason = `satellite agent of CPU ${dead[0]} stopped (errno ${-dead[1]})`;
        break;
      }
      loop.flushNs += monotonicNs() - now;
    }
  }
  if (pending.length) send({ type: 'records', records: pending });
  if (cfg.destroyOnExit && setup.created) client.destroy();
  client.close();
  send({ type: 'stopped', reason });
}

if (parentPort && workerData) main(workerData as WorkerConfig);
