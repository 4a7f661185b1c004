/**
 * Runs a Workload on the emulated ghOSt kernel with the real native client and the real agent:
 * the machine side (arrivals, CPU phases, blocking phases, exits) drives the emulator in virtual
 * time, the agent schedules through the ABI. A test and benchmark driver (the agent tests and the
 * `agent` benchmark), kept out of src/: production code runs the agent on the simulated machine
 * (src/agent/ghost/sim-agent.ts) or on a real kernel.
 *
 * Layout: CPU 0 is the global agent's, CPUs 1..cpus run tasks (the centralized model needs one
 * spinning CPU). Each invocation is a thread whose phases the emulated kernel runs as its program
 * (setProgram): CPU phases where the agent commits it, blocks and wake-ups between them, the exit
 * at the end. If the enclave dies (runnable_timeout after an agent kill), the kernel returns the
 * tasks to its modelled default class, which runs them on all cpus+1 CPUs; this machine then only
 * advances time and reads the kernel's completions — it never finishes an invocation itself.
 */
import type { InvocationRecord } from '../../src/core/records.js';
import type { Ns } from '../../src/core/time.js';
import type { Policy } from '../../src/core/policy.js';
import type { Workload } from '../../src/core/workload.js';
import { createEmulator, type EmuAccounting } from '../../src/native/ghost.js';
import { GhostAgent, type AgentStats } from '../../src/agent/ghost/agent.js';
import { makeOrdering, type AgentPolicyKind } from '../../src/agent/ghost/ordering.js';
import { AGENT_PID, bringUpEmulated, WORKLOAD_PID } from '../../src/agent/ghost/emulated.js';


const TID_BASE = 10_000;

export interface EmuRunOptions {
  /** CPUs that run tasks; the agent takes one more. */
  cpus: number;
  policy: AgentPolicyKind;
  /** ALPS policy to install at start. */
  initialPolicy?: Policy;
  defaultSliceNs?: Ns;
  abi?: 84 | 90 | 91;
  tickNs?: Ns;
  /** runnable_timeout watchdog (ms); 0 = off. */
  runnableTimeoutMs?: number;
  /** SIGKILL the agent process at this virtual time. */
  killAgentAtNs?: Ns;
  /** Called with each record the agent emits (its own accounting). */
  onAgentRecord?: (r: InvocationRecord) => void;
  /** Called after every agent step with the wall-clock ns it took (benchmark). */
  onStep?: (wallNs: number, decisions: number) => void;
  /**
   * Schedule with the native centralized FIFO baseline (client.fifoBaselineStep, no JS in the
   * loop) instead of the TypeScript agent: the benchmark's side-by-side reference.
   */
  nativeBaseline?: boolean;
}

export interface EmuRunResult {
  /** Machine-side truth: one record per invocation (id = InvocationSpec.id). */
  records: InvocationRecord[];
  agentRecords: InvocationRecord[];
  stats: AgentStats;
  /** Why the enclave died, or '' if it survived. */
  destroyReason: string;
  makespanNs: Ns;
  /** Invocations whose program ended in the kernel's default (fair) class after the enclave died. */
  finishedUnderCfs: number;
  /** The emulated kernel's own totals at the end of the run. */
  kernel: EmuAccounting;
}

export function runOnEmulator(workload: Workload, opts: EmuRunOptions): EmuRunResult {
  const n = opts.cpus;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`cpus must be >= 1 (got ${n})`);
  const emu = createEmulator({ cpus: n + 1, ...(opts.tickNs ? { tickNs: opts.tickNs } : {}) });
  const abi = opts.abi ?? 91;
  const { agent, launcher, enclaveId } = bringUpEmulated(emu, n, abi, opts.runnableTimeoutMs ?? 0);
  const funcs = agent.funcs;
  const records: InvocationRecord[] = [];
  const agentRecords: InvocationRecord[] = [];
  let machineNow = emu.now();
  const ghost = new GhostAgent({
    client: agent.client,
    queue: agent.queue,
    sw: agent.sw,
    cpus: agent.cpus,
    globalCpu: 0,
    ordering: makeOrdering(opts.policy, opts.defaultSliceNs),
    // The machine's own time (virtual, it only moves in emu.advance): read once per event loop
    // iteration rather than through a native call per agent step.
    clock: () => machineNow,
    funcs,
    onRecord: (r) => {
      agentRecords.push(r);
      opts.onAgentRecord?.(r);
    },
  });
  if (opts.initialPolicy) ghost.setPolicy(opts.initialPolicy);
  const native = opts.nativeBaseline === true;
  if (native) agent.client.fifoBaselineStart(agent.queue, agent.cpus.slice(1));
  // The baseline is entered like the agent's hot calls (a plain bound function), so the ratio
  // compares the loops, not two JS -> native entry paths.
  const fifoStep = native ? agent.client.fifoBaselineStepFn() : undefined;
  const step = fifoStep ? fifoStep : (): number => ghost.step();

  const specs = [...workload.invocations].sort((a, b) => a.arrivalNs - b.arrivalNs || a.id - b.id);
  // Invocations whose thread has not exited yet, by tid. The machine never runs or finishes one
  // itself: the emulated kernel runs each program and reports its end (takeCompletions).
  const pending = new Map<number, Workload['invocations'][number]>();
  let next = 0;
  let agentAlive = true;
  let enclaveAlive = true;
  let finishedUnderCfs = 0;
  let makespan = 0;
  const tick = opts.tickNs ?? 4_000_000;

  const collect = (): void => {
    for (const c of emu.takeCompletions()) {
      const spec = pending.get(c.tid);
      if (!spec) continue;
      pending.delete(c.tid);
      records.push({ id: spec.id, funcId: spec.funcId, arrivalNs: spec.arrivalNs, endNs: c.endNs, cpuNs: c.cpuNs });
      makespan = Math.max(makespan, c.endNs);
      if (c.underFair) finishedUnderCfs++;
    }
  };

  while (next < specs.length || pending.size > 0) {
    const now = (machineNow = emu.now());
    if (agentAlive && opts.killAgentAtNs !== undefined && now >= opts.killAgentAtNs) {
      emu.killProcess(AGENT_PID);
      agentAlive = false;
    }
    if (enclaveAlive && !emu.enclave(enclaveId)?.alive) enclaveAlive = false;
    // Arrivals: the kernel gets the invocation's program; the launcher admits the thread to the
    // enclave while there is one (afterwards it stays in the default class).
    while (next < specs.length && (specs[next]?.arrivalNs ?? Infinity) <= now) {
      const spec = specs[next++] as Workload['invocations'][number];
      const tid = TID_BASE + next;
      funcs.set(tid, spec.funcId);
      pending.set(tid, spec);
      emu.spawn(WORKLOAD_PID, tid, true);
      emu.setProgram(tid, spec.phases);
      if (enclaveAlive && emu.thread(tid)) launcher.enterTask(tid);
    }
    if (enclaveAlive) {
      if (agentAlive) {
        const t0 = process.hrtime.bigint();
        const d = step();
        opts.onStep?.(Number(process.hrtime.bigint() - t0), d);
      }
      emu.advance(0);
    }
    collect();
    // Next event: an arrival, a program event in the kernel (a CPU phase or a block ends), the
    // agent's next deadline while it schedules.
    let at = Math.min(next < specs.length ? (specs[next]?.arrivalNs ?? Infinity) : Infinity, emu.nextProgramEvent());
    if (enclaveAlive) {
      if (agentAlive && !native) at = Math.min(at, ghost.nextDeadline());
      else at = Math.min(at, now + tick);
    }
    if (at === Infinity) at = now + tick;
    emu.advance(Math.max(0, Math.ceil(at - now)));
    if (at <= now && emu.now() === now && pending.size > 0) emu.advance(1);
    collect();
  }
  // The last exits happened inside the kernel's advance: the agent reads their messages once more.
  if (agentAlive && emu.enclave(enclaveId)?.alive) step();
  return {
    records: records.sort((a, b) => (a.id ?? 0) - (b.id ?? 0)),
    agentRecords,
    stats: ghost.stats,
    destroyReason: emu.enclave(enclaveId)?.destroyReason ?? '',
    makespanNs: makespan,
    finishedUnderCfs,
    kernel: emu.accounting(),
  };
}
