/**
 * The ghOSt agent's startup sequence on the emulated ghOSt kernel, shared by the simulator
 * adapter (sim-agent.ts) and the emulator-driven test machine (test/support/emu-machine.ts).
 */
import { createClient, StatusWords, type Emulator, type GhostClient } from '../../native/ghost.js';
import { StaticResolver } from '../../workload/funcs.js';

/** pid of the agent process on the emulator (its threads are AGENT_PID + cpu). */
export const AGENT_PID = 100;
/** pid of the launcher (the workload process that admits tasks). */
export const WORKLOAD_PID = 1;

export interface AgentSide {
  client: GhostClient;
  queue: number;
  sw: StatusWords;
  cpus: number[];
  funcs: StaticResolver;
}

/**
 * The startup sequence (§7.2) on the emulator: enclave over CPUs 0..n (CPU 0 for the global agent),
 * status-word region, centralized queue, satellites blocked in RUN, the global agent, and a
 * launcher client (the workload process) that admits tasks.
 */
export function bringUpEmulated(
  emu: Emulator,
  n: number,
  abi: number,
  runnableTimeoutMs: number,
): { agent: AgentSide; launcher: GhostClient; enclaveId: number } {
  const client = createClient({ emulator: emu, pid: AGENT_PID, tid: AGENT_PID });
  const enclaveId = client.createEnclave(abi);
  client.attach(enclaveId, abi);
  const cpus = Array.from({ length: n + 1 }, (_, i) => i);
  client.setCpus(cpus);
  const sw = new StatusWords(client.createSwRegion(0, 0));
  const queue = client.createQueue(65536);
  client.setDefaultQueue(queue);
  if (runnableTimeoutMs) client.setTunable('runnable_timeout', runnableTimeoutMs);
  for (const c of cpus.slice(1)) {
    const s = createClient({ emulator: emu, pid: AGENT_PID, tid: AGENT_PID + c });
    s.attach(enclaveId, abi);
    const rc = s.becomeAgent(c, -1);
    if (rc !== 0) throw new Error(`become agent ${c}: errno ${-rc}`);
    s.run(0, sw.barrier(s.agentSwIndex(c)), c);
  }
  const rc = client.becomeAgent(0, queue);
  if (rc !== 0) throw new Error(`become agent 0: errno ${-rc}`);
  const launcher = createClient({ emulator: emu, pid: WORKLOAD_PID, tid: WORKLOAD_PID });
  launcher.attach(enclaveId, abi);
  return { agent: { client, queue, sw, cpus, funcs: new StaticResolver() }, launcher, enclaveId };
}

/**
 * GhostAgent's moveGlobal on the emulated kernel, where the calling thread is named per call: as
 * ghost-userspace's PickNextGlobalCPU, ping `to`'s agent (RUN of the agent gtid: it gets on its
 * CPU, preempting what ran there), park `from`'s agent with a plain RUN(0) (LocalYield: its CPU
 * goes to the task that needs it), then go on as `to`'s agent thread (client.actAs). On a real
 * host the loop would have to continue on another OS thread; the worker does not do that (yet),
 * so it yields instead. `agentTid(cpu)`: the emulated thread that is `cpu`'s agent.
 */
export function emulatedMoveGlobal(client: GhostClient, sw: StatusWords, agentTid: (cpu: number) => number): (from: number, to: number) => boolean {
  const ESTALE = -116;
  return (from, to) => {
    if (client.run(-1, 0, to) !== 0) return false;
    const ai = client.agentSwIndex(from);
    let rc = ESTALE;
    // ESTALE: a message moved the barrier between the read and RUN; read it again.
    for (let i = 0; i < 8 && rc === ESTALE; i++) rc = client.run(0, sw.barrier(ai), from, 0);
    if (rc !== 0) return false;
    client.actAs(agentTid(to));
    return true;
  };
}
