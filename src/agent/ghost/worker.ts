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

export type ToWorker = { type: 'policy'; policy: Policy } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; enclaveId: number; abi: number; cpus: number[]; globalCpu: number; created: boolean }
  | { type: 'records'; records: InvocationRecord[] }
  | { type: 'stats'; stats: GhostAgent['stats']; generation: number }
  | { type: 'stopped'; reason: string };

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
  let reason = 'stopped';
  for (let iter = 0; ; iter++) {
    let idle = false;
    // Read before the pass drains the queue (ghOSt's RUN protocol): a message after this read
    // makes the RUN below return ESTALE instead of sleeping on it.
    const barrier = globalSw >= 0 ? setup.sw.barrier(globalSw) : 0;
    try {
      const seen = agent.stats.messages;
      idle = agent.step() === 0 && agent.stats.messages === seen;
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
      const limit = agent.waitingForCpu() ? idleNs : flushNs;
      const waitNs = Math.min(limit, agent.nextDeadline() - now);
      if (waitNs > 20_000) client.run(0, barrier, setup.globalCpu, 0, Math.ceil(waitNs / 1000));
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
      send({ type: 'stats', stats: agent.stats, generation: agent.ordering.generation });
      funcs.reload();
      const dead = client.satelliteStatus().find(([, st]) => st < 0);
      if (dead) {
        reason = `satellite agent of CPU ${dead[0]} stopped (errno ${-dead[1]})`;
        break;
      }
    }
  }
  if (pending.length) send({ type: 'records', records: pending });
  if (cfg.destroyOnExit && setup.created) client.destroy();
  client.close();
  send({ type: 'stopped', reason });
}

if (parentPort && workerData) main(workerData as WorkerConfig);
