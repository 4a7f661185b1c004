import type { Ns, Policy } from '../../core/index.js';
import type { DelegatedAgent, GhostCosts, GhostMessage, GhostMessageType, GhostTxn } from '../agent.js';
import type { EnqueueKind, MachineApi, SchedulerModel } from '../model.js';
import { TaskState, type SimTask } from '../task.js';

const DELIVER = -1;

/**
 * Delegated scheduling (ghOSt): the machine's scheduling points become messages to an agent
 * that runs on a dedicated CPU outside the C simulated ones (a centralized agent). A message
 * reaches the agent msgNs after the event; the agent handles every message due at once as one
 * batch, and its transactions commit one after another (txnNs each), each landing on its
 * target CPU after a further IPI. Until a transaction lands the CPU idles (or keeps running
 * what it runs). Nothing is decided in the "kernel": no wake-up preemption, no balancing.
 */
export class DelegatedModel implements SchedulerModel {
  readonly name: string;
  private m!: MachineApi;
  private readonly pending: { msg: GhostMessage; at: Ns }[] = [];
  private readonly batch: GhostMessage[] = [];
  private readonly txns: GhostTxn[] = [];
  /** Transactions committed but not yet landed, per CPU, in landing order. */
  private readonly inflight: { task: SimTask; at: Ns }[][];
  private readonly landed: (SimTask | null)[];
  private agentBusyUntil: Ns = 0;
  private runnable = 0;
  decisions = 0;

  constructor(
    readonly ncpus: number,
    private readonly agent: DelegatedAgent,
    readonly costs: GhostCosts,
    name = 'alps-delegated',
  ) {
    this.name = name;
    this.inflight = Array.from({ length: ncpus }, () => []);
    this.landed = new Array<SimTask | null>(ncpus).fill(null);
  }

  attach(m: MachineApi): void {
    this.m = m;
    this.agent.init(this.ncpus);
  }

  setPolicy(policy: Policy): void {
    this.agent.setPolicy?.(policy);
  }

  private send(type: GhostMessageType, t: SimTask | null, cpu: number): void {
    const now = this.m.now;
    const at = now + this.costs.msgNs;
    this.pending.push({
      msg: { type, taskId: t ? t.index : -1, funcId: t ? t.funcId : 0, cpu, runtimeNs: t ? t.sumExecNs : 0, sentNs: now },
      at,
    });
    this.m.post(Math.max(at, this.agentBusyUntil), 0, DELIVER);
  }

  onEvent(cpu: number, tag: number): void {
    if (tag === DELIVER) this.deliver();
    else this.land(cpu);
  }

  private deliver(): void {
    const now = this.m.now;
    if (now < this.agentBusyUntil || this.pending.length === 0) return;
    const b = this.batch;
    b.length = 0;
    let keep = 0;
    for (const p of this.pending) {
      if (p.at <= now) b.push(p.msg);
      else this.pending[keep++] = p;
    }
    this.pending.length = keep;
    if (b.length === 0) return;
    const out = this.txns;
    out.length = 0;
    this.agent.onMessages(b, now, out);
    let t = now;
    for (const x of out) {
      t += this.costs.txnNs;
      const task = this.m.task(x.taskId);
      const at = t + this.costs.ipiNs;
      this.inflight[x.cpu]!.push({ task, at });
      this.m.post(at, x.cpu, 0);
      this.decisions++;
    }
    this.agentBusyUntil = t;
    if (this.pending.length > 0) this.m.post(Math.max(this.agentBusyUntil, this.pending[0]!.at), 0, DELIVER);
  }

  private land(cpu: number): void {
    const q = this.inflight[cpu]!;
    const x = q.shift();
    if (!x) return;
    const t = x.task;
    const curr = this.m.curr(cpu);
    if (t.state !== TaskState.runnable || this.isLandedElsewhere(t)) {
      this.send('TXN_FAILED', t, cpu);
      return;
    }
    if (curr === t) return;
    const displaced = this.landed[cpu];
    if (displaced) this.send('TXN_FAILED', displaced, cpu);
    this.landed[cpu] = t;
    this.m.resched(cpu);
  }

  private isLandedElsewhere(t: SimTask): boolean {
    for (const l of this.landed) if (l === t) return true;
    return false;
  }

  selectCpu(_t: SimTask, _kind: 'new' | 'wakeup'): number {
    return -1;
  }

  enqueue(_cpu: number, t: SimTask, kind: EnqueueKind): void {
    this.runnable++;
    this.send(kind === 'new' ? 'TASK_NEW' : 'TASK_WAKEUP', t, -1);
  }

  wantsPreempt(): boolean {
    return false;
  }

  putPrev(cpu: number, t: SimTask): void {
    this.runnable++;
    this.send('TASK_PREEMPT', t, cpu);
  }

  pickNext(cpu: number, _prev: SimTask | null): SimTask | null {
    const t = this.landed[cpu];
    if (!t) return null;
    this.landed[cpu] = null;
    this.runnable--;
    return t;
  }

  account(_cpu: number, _t: SimTask, _deltaNs: Ns): void {}

  tick(cpu: number, curr: SimTask): boolean {
    if (this.agent.wantsTicks) this.send('CPU_TICK', curr, cpu);
    return false;
  }

  dequeueCurr(cpu: number, t: SimTask, why: 'sleep' | 'exit'): void {
    this.send(why === 'sleep' ? 'TASK_BLOCKED' : 'TASK_DEAD', t, cpu);
  }

  queuedTotal(): number {
    return this.runnable;
  }
  queuedOn(_cpu: number): number {
    return -1;
  }
}
