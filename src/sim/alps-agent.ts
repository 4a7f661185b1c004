import type { FuncId, Ns, Policy, PolicyEntry } from '../core/index.js';
import { policyIndex } from '../core/index.js';
import type { DelegatedAgent, GhostMessage, GhostTxn } from './agent.js';
import { before, escapeDeadlineNs, functionRank, levelOf, overdueDegree, preempts, type RuleTask } from '../core/alps-rule.js';

interface AgentTask {
  id: number;
  funcId: FuncId;
  rank: number;
  sliceNs: Ns;
  /** Arrival (its TASK_NEW) and escape deadline under the ALPS rule. */
  arrivalNs: Ns;
  deadlineNs: Ns;
  vruntime: Ns;
  /** Runtime reported by the last message about it. */
  runtimeNs: Ns;
  /** Runtime when last put on a CPU. */
  pickedRuntimeNs: Ns;
  queued: boolean;
  cpu: number;
}

/**
 * ALPS as a centralized ghOSt agent, deciding by the ALPS rule (src/core/alps-rule.ts): one
 * runqueue in the rule's order (level; EDF for overdue, vruntime for ordinary, arrival within a
 * rank), per-CPU slices with the rule's protection — a running task keeps its CPU until it has
 * run its learned slice since it was placed (the default slice when it has none) against all but
 * a strictly lower level, which the agent places as soon as it hears of it; at slice end (a tick)
 * the queue head takes over if it orders before the running task. Idle CPUs get the queue head
 * at once. vruntime follows CFS placement (new tasks at the queue's min vruntime, wakers with half
 * a latency of credit).
 */
export class AlpsGhostAgent implements DelegatedAgent {
  readonly name = 'alps';
  readonly wantsTicks = true;
  private tasks = new Map<number, AgentTask>();
  private queue: AgentTask[] = [];
  private cpuTask: (AgentTask | null)[] = [];
  private entries = new Map<FuncId, PolicyEntry>();
  private minVr = 0;

  constructor(
    /** Slice for tasks without a learned one (CFS min granularity at this CPU count). */
    private readonly defaultSliceNs: Ns,
    /** Sleeper credit (half of sched_latency). */
    private readonly sleeperCreditNs: Ns,
  ) {}

  init(ncpus: number): void {
    this.cpuTask = new Array<AgentTask | null>(ncpus).fill(null);
  }

  setPolicy(policy: Policy): void {
    this.entries = policyIndex(policy);
    for (const t of this.tasks.values()) this.applyPolicy(t);
  }

  private applyPolicy(t: AgentTask): void {
    const e = this.entries.get(t.funcId);
    t.rank = functionRank(t.funcId, e?.rank, this.entries.size);
    t.sliceNs = e ? e.sliceNs : 0;
    t.deadlineNs = t.rank > 0 ? escapeDeadlineNs(t.arrivalNs, e?.expectedCpuNs) : Infinity;
  }

  private view(t: AgentTask, into: RuleTask): RuleTask {
    into.level = levelOf(t.rank, t.deadlineNs, this.now);
    into.deadlineNs = t.deadlineNs;
    into.fairKey = t.vruntime;
    into.arrivalNs = t.arrivalNs;
    into.id = t.id;
    into.rank = t.rank;
    into.degree = overdueDegree(t.arrivalNs, t.deadlineNs, this.now);
    return into;
  }

  private readonly va: RuleTask = { level: 0, degree: 0, deadlineNs: 0, fairKey: 0, rank: 0, arrivalNs: 0, id: 0 };
  private readonly vb: RuleTask = { level: 0, degree: 0, deadlineNs: 0, fairKey: 0, rank: 0, arrivalNs: 0, id: 0 };
  private now: Ns = 0;

  private before(a: AgentTask, b: AgentTask): boolean {
    return before(this.view(a, this.va), this.view(b, this.vb));
  }

  private enqueue(t: AgentTask): void {
    t.queued = true;
    t.cpu = -1;
    this.queue.push(t);
  }

  /** Remove and return the best queued task. Linear: agent queues are short. */
  private popBest(): AgentTask | null {
    const q = this.queue;
    if (q.length === 0) return null;
    let bi = 0;
    for (let i = 1; i < q.length; i++) if (this.before(q[i]!, q[bi]!)) bi = i;
    const t = q[bi]!;
    q[bi] = q[q.length - 1]!;
    q.pop();
    t.queued = false;
    return t;
  }

  private peekBest(): AgentTask | null {
    const q = this.queue;
    let b: AgentTask | null = null;
    for (const t of q) if (!b || this.before(t, b)) b = t;
    return b;
  }

  private charge(t: AgentTask, runtime: Ns): void {
    const d = runtime - t.runtimeNs;
    if (d > 0) t.vruntime += d;
    t.runtimeNs = runtime;
  }

  private updateMin(): void {
    let v = Infinity;
    for (const t of this.queue) if (t.vruntime < v) v = t.vruntime;
    for (const t of this.cpuTask) if (t && t.vruntime < v) v = t.vruntime;
    if (v !== Infinity && v > this.minVr) this.minVr = v;
  }

  onMessages(batch: readonly GhostMessage[], nowNs: Ns, out: GhostTxn[]): void {
    this.now = nowNs;
    const preemptCpus: number[] = [];
    for (const m of batch) {
      switch (m.type) {
        case 'TASK_NEW': {
          const t: AgentTask = {
            id: m.taskId, funcId: m.funcId, rank: 0, sliceNs: 0, arrivalNs: m.sentNs, deadlineNs: Infinity, vruntime: this.minVr,
            runtimeNs: m.runtimeNs, pickedRuntimeNs: 0, queued: false, cpu: -1,
          };
          this.applyPolicy(t);
          this.tasks.set(t.id, t);
          this.enqueue(t);
          break;
        }
        case 'TASK_WAKEUP': {
          const t = this.tasks.get(m.taskId);
          if (!t) break;
          this.charge(t, m.runtimeNs);
          t.vruntime = Math.max(t.vruntime, this.minVr - this.sleeperCreditNs);
          this.enqueue(t);
          break;
        }
        case 'TASK_PREEMPT':
        case 'TXN_FAILED': {
          const t = this.tasks.get(m.taskId);
          if (!t) break;
          this.charge(t, m.runtimeNs);
          if (this.cpuTask[m.cpu] === t) this.cpuTask[m.cpu] = null;
          if (!t.queued) this.enqueue(t);
          break;
        }
        case 'TASK_BLOCKED':
        case 'TASK_DEAD': {
          const t = this.tasks.get(m.taskId);
          if (t) this.charge(t, m.runtimeNs);
          if (this.cpuTask[m.cpu] === t) this.cpuTask[m.cpu] = null;
          if (m.type === 'TASK_DEAD') this.tasks.delete(m.taskId);
          break;
        }
        case 'CPU_TICK': {
          const t = this.cpuTask[m.cpu];
          if (!t || t.id !== m.taskId) break;
          this.charge(t, m.runtimeNs);
          const slice = t.sliceNs > 0 ? t.sliceNs : this.defaultSliceNs;
          if (m.runtimeNs - t.pickedRuntimeNs >= slice) preemptCpus.push(m.cpu);
          break;
        }
      }
    }
    this.updateMin();
    // Idle CPUs first, then CPUs whose task used its slice and has a queued rival at least as good.
    for (let cpu = 0; cpu < this.cpuTask.length && this.queue.length > 0; cpu++) {
      if (this.cpuTask[cpu]) continue;
      this.place(cpu, this.popBest()!, out);
    }
    for (const cpu of preemptCpus) {
      const curr = this.cpuTask[cpu];
      const head = this.peekBest();
      if (!curr || !head || this.before(curr, head)) continue;
      this.place(cpu, this.popBest()!, out);
    }
    // A strictly lower level preempts inside the slice: the worst-level running task it outranks.
    for (let head = this.peekBest(); head; head = this.peekBest()) {
      const hl = this.view(head, this.va).level;
      let victim = -1;
      let worst = hl;
      for (let cpu = 0; cpu < this.cpuTask.length; cpu++) {
        const c = this.cpuTask[cpu];
        if (!c) continue;
        const l = this.view(c, this.vb).level;
        if (preempts(hl, l) && l > worst) {
          worst = l;
          victim = cpu;
        }
      }
      if (victim < 0) break;
      this.place(victim, this.popBest()!, out);
    }
  }

  private place(cpu: number, t: AgentTask, out: GhostTxn[]): void {
    // The displaced task (if any) comes back as TASK_PREEMPT once the transaction lands.
    this.cpuTask[cpu] = t;
    t.cpu = cpu;
    t.pickedRuntimeNs = t.runtimeNs;
    out.push({ cpu, taskId: t.id });
  }
}
