import type { FuncId, Ns, Policy } from '../core/index.js';

/**
 * The delegated-scheduling seam, shaped like ghOSt: the kernel side (the machine, through
 * DelegatedModel) sends messages about tasks and CPUs; an agent receives them in batches and
 * answers with per-CPU transactions ("run task T on CPU c"), which the kernel applies after
 * the transaction commit and, for a remote CPU, an IPI. The built-in ALPS agent implements this;
 * a real ghOSt agent (src/agent via the native client) can implement it too.
 */
export type GhostMessageType =
  | 'TASK_NEW'
  | 'TASK_WAKEUP'
  | 'TASK_BLOCKED'
  | 'TASK_PREEMPT'
  | 'TASK_DEAD'
  | 'CPU_TICK'
  /** A transaction could not be applied (task no longer runnable); the CPU stays as it was. */
  | 'TXN_FAILED';

export interface GhostMessage {
  type: GhostMessageType;
  /** Task id on the wire: the task's index in the workload; -1 for CPU-only messages. */
  taskId: number;
  funcId: FuncId;
  /** CPU the event happened on (-1 when not tied to a CPU: TASK_NEW, TASK_WAKEUP). */
  cpu: number;
  /** Task's total CPU time when the message was sent. */
  runtimeNs: Ns;
  /** When the kernel produced it. */
  sentNs: Ns;
}

/** Run `taskId` on `cpu` (preempting whatever runs there). */
export interface GhostTxn {
  cpu: number;
  taskId: number;
}

/**
 * The simulator's delegated-scheduling seam: an agent that sees ghOSt-style messages and answers
 * with per-CPU transactions (the built-in ALPS agent, predicted-size SRPT, or the real ghOSt agent
 * of src/agent/ghost through sim-agent.ts, whose own class is `GhostAgent`).
 */
export interface DelegatedAgent {
  readonly name: string;
  /** Send CPU_TICK messages for busy CPUs. */
  readonly wantsTicks: boolean;
  init(ncpus: number): void;
  /** Handle a batch of messages (oldest first); push the transactions to commit, in order. */
  onMessages(batch: readonly GhostMessage[], nowNs: Ns, out: GhostTxn[]): void;
  /** A new learned policy (ALPS agents). */
  setPolicy?(policy: Policy): void;
}

/** ghOSt costs (ALPS paper Table 3, quoting the ghOSt paper) and the IPI to a remote CPU. */
export interface GhostCosts {
  /** Kernel → agent message delivery. */
  msgNs: Ns;
  /** One transaction commit (agent time; commits of one batch are serial). */
  txnNs: Ns;
  /** IPI to make a remote CPU take the committed task. */
  ipiNs: Ns;
}

export const GHOST_COSTS: GhostCosts = { msgNs: 725, txnNs: 888, ipiNs: 1_000 };
