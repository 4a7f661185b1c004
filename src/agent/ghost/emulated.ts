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
