/**
 * Runs a Workload on the emulated ghOSt kernel with the real native client and the real agent:
 * the machine side (arrivals, CPU phases, blocking phases, exits) drives the emulator in virtual
 * time, the agent schedules through the ABI. A test and benchmark driver (the agent tests and the
 * `agent` benchmark), kept out of src/: production code runs the agent on the simulated machine
 * (src/agent/ghost/sim-agent.ts) or on a real kernel.
 *
 * Layout: CPU 0 is the global agent's, CPUs 1..cpus run tasks (the centralized model needs one
 * spinning CPU). If the enclave dies (runnable_timeout after an agent kill), the remaining work
 * finishes under a processor-sharing model of the default class on all cpus+1 CPUs; progress a
 * task made under ghOSt since the machine last sampled it (at most one event interval) is redone.
 */
import type { InvocationRecord } from '../../src/core/records.js';
import type { Ns } from '../../src/core/time.js';
import type { Policy } from '../../src/core/policy.js';
import type { Workload } from '../../src/core/workload.js';
import { createEmulator } from '../../src/native/ghost.js';
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
  /** Invocations that finished under the default class after the enclave died. */
  finishedUnderCfs: number;
}

interface Live {
  spec: Workload['invocations'][number];
  tid: number;
  phase: number;
  /** Runtime (kernel-reported) at which the current CPU phase is done. */
  phaseEndRuntime: Ns;
  wakeAt: Ns;
  cfsRemaining: Ns;
  lastRuntime: Ns;
  cpuNs: Ns;
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
  const step = native ? (): number => agent.client.fifoBaselineStep() : (): number => ghost.step();

  const specs = [...workload.invocations].sort((a, b) => a.arrivalNs - b.arrivalNs || a.id - b.id);
  const live = new Map<number, Live>();
  const blocked = new Set<Live>();
  let next = 0;
  let agentAlive = true;
  let enclaveAlive = true;
  let finishedUnderCfs = 0;
  let makespan = 0;
  const workers = Array.from({ length: n }, (_, i) => i + 1);

  const finish = (l: Live, now: Ns, underCfs: boolean): void => {
    live.delete(l.tid);
    records.push({ id: l.spec.id, funcId: l.spec.funcId, arrivalNs: l.spec.arrivalNs, endNs: now, cpuNs: l.cpuNs });
    makespan = Math.max(makespan, now);
    if (underCfs) finishedUnderCfs++;
  };
  /** Start phase `l.phase` (skipping empty ones); returns false when the invocation is done. */
  const startPhase = (l: Live, now: Ns, runtime: Ns): 'cpu' | 'block' | 'done' => {
    while (l.phase < l.spec.phases.length && (l.spec.phases[l.phase]?.ns ?? 0) <= 0) l.phase++;
    const p = l.spec.phases[l.phase];
    if (!p) return 'done';
    if (p.kind === 'cpu') {
      l.phaseEndRuntime = runtime + p.ns;
      return 'cpu';
    }
    l.wakeAt = now + p.ns;
    return 'block';
  };

  while (next < specs.length || live.size > 0) {
    const now = (machineNow = emu.now());
    if (agentAlive && opts.killAgentAtNs !== undefined && now >= opts.killAgentAtNs) {
      emu.killProcess(AGENT_PID);
      agentAlive = false;
    }
    if (enclaveAlive && !emu.enclave(enclaveId)?.alive) {
      enclaveAlive = false;
      for (const l of live.values()) l.cfsRemaining = remainingOf(l);
    }
    // Arrivals.
    while (next < specs.length && (specs[next]?.arrivalNs ?? Infinity) <= now) {
      const spec = specs[next++] as Workload['invocations'][number];
      const tid = TID_BASE + next;
      funcs.set(tid, spec.funcId);
      const l: Live = { spec, tid, phase: 0, phaseEndRuntime: 0, wakeAt: 0, cfsRemaining: 0, lastRuntime: 0, cpuNs: 0 };
      const first = startPhase(l, now, 0);
      if (first === 'done') {
        records.push({ id: spec.id, funcId: spec.funcId, arrivalNs: spec.arrivalNs, endNs: now, cpuNs: 0 });
        continue;
      }
      live.set(tid, l);
      emu.spawn(WORKLOAD_PID, tid, first === 'cpu');
      if (first === 'block') blocked.add(l);
      if (enclaveAlive) launcher.enterTask(tid);
      else l.cfsRemaining = remainingOf(l);
    }
    if (enclaveAlive) {
      // Wake-ups due, then CPU-phase ends of running tasks.
      for (const l of [...blocked]) {
        if (l.wakeAt > now) continue;
        blocked.delete(l);
        l.phase++;
        const p = startPhase(l, now, l.lastRuntime);
        if (p === 'done') {
          emu.exit(l.tid);
          finish(l, now, false);
        } else if (p === 'cpu') emu.wake(l.tid);
        else blocked.add(l);
      }
      for (const c of workers) {
        const tid = emu.cpu(c)?.current ?? 0;
        const l = tid ? live.get(tid) : undefined;
        if (!l) continue;
        const rt = emu.thread(tid)?.runtimeNs ?? 0;
        l.cpuNs += rt - l.lastRuntime;
        l.lastRuntime = rt;
        if (rt < l.phaseEndRuntime) continue;
        l.phase++;
        const p = startPhase(l, now, rt);
        if (p === 'cpu') continue;
        emu.block(tid);
        if (p === 'done') {
          emu.exit(tid);
          finish(l, now, false);
        } else blocked.add(l);
      }
      if (agentAlive) {
        const t0 = process.hrtime.bigint();
        const d = step();
        opts.onStep?.(Number(process.hrtime.bigint() - t0), d);
      }
      emu.advance(0);
    }
    // Next event.
    let at = next < specs.length ? (specs[next]?.arrivalNs ?? Infinity) : Infinity;
    if (enclaveAlive) {
      for (const l of blocked) at = Math.min(at, l.wakeAt);
      for (const c of workers) {
        const tid = emu.cpu(c)?.current ?? 0;
        const l = tid ? live.get(tid) : undefined;
        if (l) at = Math.min(at, now + Math.max(0, l.phaseEndRuntime - (emu.thread(tid)?.runtimeNs ?? 0)));
      }
      if (agentAlive && !native) at = Math.min(at, ghost.nextDeadline());
      else at = Math.min(at, now + (opts.tickNs ?? 4_000_000));
      if (at === Infinity) at = now + (opts.tickNs ?? 4_000_000);
      emu.advance(Math.max(0, Math.ceil(at - now)));
      if (at <= now && emu.now() === now && live.size > 0) emu.advance(1);
    } else {
      // Default class: processor sharing over all n+1 CPUs (CPU phases only; blocks are waited out).
      const running = [...live.values()].filter((l) => l.cfsRemaining > 0);
      const rate = running.length ? Math.min(1, (n + 1) / running.length) : 0;
      let dt = at - now;
      for (const l of running) dt = Math.min(dt, l.cfsRemaining / rate);
      if (!Number.isFinite(dt)) dt = 0;
      dt = Math.max(1, Math.ceil(dt));
      emu.advance(dt);
      for (const l of [...live.values()]) {
        l.cfsRemaining -= dt * rate;
        l.cpuNs += dt * rate;
        if (l.cfsRemaining <= 0.5) finish(l, emu.now(), true);
      }
    }
  }
  return {
    records: records.sort((a, b) => (a.id ?? 0) - (b.id ?? 0)),
    agentRecords,
    stats: ghost.stats,
    destroyReason: emu.enclave(enclaveId)?.destroyReason ?? '',
    makespanNs: makespan,
    finishedUnderCfs,
  };
}

/** Work left from the current phase on (blocking phases are folded in as waiting time ≈ 0 CPU). */
function remainingOf(l: Live): Ns {
  let rest = Math.max(0, l.phaseEndRuntime - l.lastRuntime);
  for (let i = l.phase + 1; i < l.spec.phases.length; i++) {
    const p = l.spec.phases[i];
    if (p?.kind === 'cpu') rest += p.ns;
  }
  return Math.max(rest, 1);
}
