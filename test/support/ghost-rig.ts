/**
 * Shared setup for the native ghOSt tests: an emulated kernel, an agent process whose first thread
 * is the global agent, satellites blocked in RUN on the other CPUs, and one centralized queue —
 * the startup sequence of docs/ghost-abi.md §7.2, driven through the real client.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createClient,
  createEmulator,
  MessageBatch,
  MsgType,
  StatusWords,
  TxnBatch,
  type Emulator,
  type GhostClient,
} from '../../src/native/ghost.js';
import { GhostAgent, type GhostAgentOptions } from '../../src/agent/ghost/agent.js';
import { makeOrdering } from '../../src/agent/ghost/ordering.js';

export const AGENT_PID = 100;

/** Undefined when the addon is built; otherwise the reason tests must skip. */
export function nativeSkipReason(): string | undefined {
  const root = new URL('../../../', import.meta.url).pathname;
  const candidates = [join(root, 'build/Release/alps_ghost.node'), join(root, '../build/Release/alps_ghost.node')];
  return candidates.some((p) => existsSync(p)) ? undefined : 'alps_ghost addon not built (run `npm run setup`)';
}

export interface Rig {
  emu: Emulator;
  client: GhostClient;
  enclaveId: number;
  queue: number;
  sw: StatusWords;
  batch: MessageBatch;
  txns: TxnBatch;
  cpus: number[];
  globalCpu: number;
  satellites: GhostClient[];
}

export interface RigOptions {
  abi?: number;
  cpus?: number;
  queueElems?: number;
  /** Make agents on every CPU (default true). */
  agents?: boolean;
  tunables?: Record<string, number>;
  /** CPUs whose satellite agents are native threads parked in RUN (the rest: JS clients). */
  threadCpus?: number[];
}

/** Emulated tid of the native satellite thread of CPU c (startSatellites' tidBase + c). */
export const SATELLITE_TID_BASE = 50_000;

/** Waits (wall clock, bounded) until `cond` holds; satellites are real threads. */
export function waitFor(cond: () => boolean, what: string, ms = 5000): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; !cond(); waited++) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(cell, 0, 0, 1);
  }
}

/** Enclave over CPUs 0..n-1, global agent on CPU 0 (tid AGENT_PID), satellites tid AGENT_PID+c. */
export function makeRig(opts: RigOptions = {}): Rig {
  const n = opts.cpus ?? 4;
  const abi = opts.abi ?? 91;
  const emu = createEmulator({ cpus: n });
  const client = createClient({ emulator: emu, pid: AGENT_PID, tid: AGENT_PID });
  const enclaveId = client.createEnclave(abi);
  client.attach(enclaveId, abi);
  const cpus = Array.from({ length: n }, (_, i) => i);
  client.setCpus(cpus);
  const sw = new StatusWords(client.createSwRegion(0, 0));
  const queue = client.createQueue(opts.queueElems ?? 1024);
  client.setDefaultQueue(queue);
  for (const [k, v] of Object.entries(opts.tunables ?? {})) client.setTunable(k, v);
  const satellites: GhostClient[] = [];
  const threadCpus = opts.threadCpus ?? [];
  if (opts.agents ?? true) {
    if (threadCpus.length) {
      client.startSatellites(threadCpus, queue, SATELLITE_TID_BASE);
      waitFor(() => threadCpus.every((c) => emu.cpu(c)?.blockedInRun === true), 'native satellites parked in RUN');
    }
    for (const c of cpus.slice(1).filter((x) => !threadCpus.includes(x))) {
      const s = createClient({ emulator: emu, pid: AGENT_PID, tid: AGENT_PID + c });
      s.attach(enclaveId, abi);
      s.createSwRegion(0, 0);
      assert.equal(s.becomeAgent(c, -1), 0);
      satellites.push(s);
    }
    assert.equal(client.becomeAgent(0, queue), 0);
    for (const [i, s] of satellites.entries()) {
      const c = cpus.slice(1).filter((x) => !threadCpus.includes(x))[i] as number;
      // On the driver's thread RUN(0) parks the agent and returns (it cannot block there).
      assert.equal(s.run(0, sw.barrier(s.agentSwIndex(c)), c), 0);
    }
  }
  return { emu, client, enclaveId, queue, sw, batch: new MessageBatch(256), txns: new TxnBatch(64), cpus, globalCpu: 0, satellites };
}

/** Drain everything and return the records as plain objects (tests only: allocates). */
export function drainAll(rig: Rig): Array<{ type: number; task: number; cpu: number; seq: number; flags: number; i: number }> {
  const out = [];
  rig.batch.drainFrom(rig.client, rig.queue);
  for (let i = 0; i < rig.batch.count; i++) {
    out.push({ type: rig.batch.type(i), task: rig.batch.task(i), cpu: rig.batch.cpu(i), seq: rig.batch.seqnum(i), flags: rig.batch.flags(i), i });
  }
  return out;
}

/** Spawn thread `tid` in the workload process and admit it to the enclave; returns its handle. */
export function admit(rig: Rig, tid: number, runnable = true): { handle: number; seq: number } {
  rig.emu.spawn(1, tid, runnable);
  rig.client.enterTask(tid);
  const msgs = drainAll(rig);
  const m = msgs.find((x) => x.type === MsgType.TASK_NEW);
  assert.ok(m, `TASK_NEW for tid ${tid}`);
  return { handle: m.task, seq: m.seq };
}

/** A FIFO agent over the whole rig, global on CPU 0, on the emulator's clock; `extra` overrides. */
export function fifoAgent(rig: Rig, extra: Partial<GhostAgentOptions> = {}): GhostAgent {
  return new GhostAgent({
    client: rig.client,
    queue: rig.queue,
    sw: rig.sw,
    cpus: rig.cpus,
    globalCpu: 0,
    ordering: makeOrdering('fifo'),
    clock: () => rig.emu.now(),
    ...extra,
  });
}

export const ESTALE = 116;
export const EINVAL = 22;
