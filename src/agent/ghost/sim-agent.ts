/**
 * The real ghOSt agent inside the simulator (issue: "simulation in the loop"). Implements the
 * simulator's delegated-scheduling seam (src/sim/agent.ts DelegatedAgent): the simulated machine is
 * the truth and charges the ghOSt costs (message delivery, transaction, IPI); this adapter
 * mirrors every message it receives into the emulated ghOSt kernel, lets the real agent decide
 * through the real native client, and hands each committed placement back as a GhostTxn.
 *
 *   sim machine ──GhostMessage──▶ EmulatedGhostAgent ──driver events──▶ emulated kernel
 *        ▲                                                             │ ghOSt messages
 *        └────────GhostTxn◀── onPlace ◀── GhostAgent (src/agent) ◀─────┘ + COMMIT_TXN
 *
 * Use: simulate(workload, { scheduler: 'alps-ghost', cpus, seed }, { agent: new EmulatedGhostAgent('alps') }).
 * The emulator's CPU c+1 mirrors simulated CPU c (CPU 0 is the global agent's). A message that
 * cannot be mirrored (the two views disagree about a task) is counted in `divergences` and skipped.
 */
import type { FuncId } from '../../core/ids.js';
import type { Ns } from '../../core/time.js';
import type { Policy } from '../../core/policy.js';
import type { DelegatedAgent, GhostMessage, GhostTxn } from '../../sim/agent.js';
import { createEmulator, type Emulator, type GhostClient } from '../../native/ghost.js';
import { GhostAgent } from './agent.js';
import { makeOrdering, type AgentPolicyKind } from './ordering.js';
import { bringUpEmulated } from './emulated.js';

const TID_BASE = 10_000;

export interface EmulatedGhostAgentOptions {
  abi?: 84 | 90 | 91;
  defaultSliceNs?: Ns;
  initialPolicy?: Policy;
}

export class EmulatedGhostAgent implements DelegatedAgent {
  readonly name: string;
  /** Ticks let the agent re-check slices of busy CPUs (it has no timer of its own in the sim). */
  readonly wantsTicks = true;
  divergences = 0;
  /** The first message that could not be mirrored, and why (diagnostics). */
  firstDivergence = '';
  private emu!: Emulator;
  private launcher!: GhostClient;
  private agent!: GhostAgent;
  private out: GhostTxn[] | undefined;
  private readonly funcOf = new Map<number, FuncId>();

  constructor(
    readonly kind: AgentPolicyKind,
    private readonly opts: EmulatedGhostAgentOptions = {},
  ) {
    this.name = kind === 'alps' ? 'alps-ghost' : `ghost-${kind}`;
  }

  init(ncpus: number): void {
    // Ticks and the watchdog belong to the simulated machine, not to the mirror.
    // The simulated machine decides when a transaction lands on a busy CPU (TASK_PREEMPT).
    this.emu = createEmulator({ cpus: ncpus + 1, tickNs: 3_600_000_000_000, autoPreempt: false });
    const { agent, launcher } = bringUpEmulated(this.emu, ncpus, this.opts.abi ?? 91, 0);
    this.launcher = launcher;
    const funcs = agent.funcs;
    this.agent = new GhostAgent({
      client: agent.client,
      queue: agent.queue,
      sw: agent.sw,
      cpus: agent.cpus,
      globalCpu: 0,
      ordering: makeOrdering(this.kind, this.opts.defaultSliceNs),
      clock: () => this.emu.now(),
      funcs: { resolve: (tid) => this.funcOf.get(tid) ?? funcs.resolve(tid), nameOf: (f) => funcs.nameOf(f) },
      onPlace: (cpu, tid) => this.out?.push({ cpu: cpu - 1, taskId: tid - TID_BASE }),
    });
    if (this.opts.initialPolicy) this.agent.setPolicy(this.opts.initialPolicy);
  }

  setPolicy(policy: Policy): void {
    this.agent.setPolicy(policy);
  }

  onMessages(batch: readonly GhostMessage[], nowNs: Ns, out: GhostTxn[]): void {
    const emu = this.emu;
    emu.advance(Math.max(0, nowNs - emu.now()));
    for (const m of batch) {
      try {
        this.mirror(m);
      } catch (e) {
        if (this.divergences++ === 0) this.firstDivergence = `${m.type} task ${m.taskId} cpu ${m.cpu}: ${(e as Error).message}`;
      }
    }
    this.out = out;
    try {
      this.agent.step();
    } finally {
      this.out = undefined;
    }
  }

  get stats(): GhostAgent['stats'] {
    return this.agent.stats;
  }

  private mirror(m: GhostMessage): void {
    const emu = this.emu;
    const tid = TID_BASE + m.taskId;
    switch (m.type) {
      case 'TASK_NEW':
        this.funcOf.set(tid, m.funcId);
        emu.spawn(1, tid, true);
        this.launcher.enterTask(tid);
        break;
      case 'TASK_WAKEUP':
        emu.wake(tid);
        break;
      case 'TASK_PREEMPT':
        // The simulated CPU took the transaction that displaced this task: its scheduling point.
        emu.reschedule(m.cpu + 1);
        break;
      case 'TASK_BLOCKED':
        emu.block(tid);
        emu.reschedule(m.cpu + 1); // a latched task takes the CPU it left
        break;
      case 'TASK_DEAD':
        emu.exit(tid);
        emu.reschedule(m.cpu + 1);
        this.funcOf.delete(tid);
        break;
      case 'TXN_FAILED':
        emu.evict(tid);
        break;
      case 'CPU_TICK':
        break;
    }
  }
}
