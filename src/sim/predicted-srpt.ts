import type { LearnerParams, Policy, PolicyLearner } from '../core/policy.js';
import type { SimOptions, SimResult, Simulate } from '../core/sim.js';
import type { Ns } from '../core/time.js';
import { cpuDemandNs, type Workload } from '../core/workload.js';
import type { DelegatedAgent, GhostMessage, GhostTxn } from './agent.js';
import { simulate as simulateMachine } from './simulate.js';
import { Rng } from '../core/prng.js';

/**
 * SRPT driven by *predicted* sizes (ALPS paper §3.3, Fig. 2): SRPT-EB (each prediction is the
 * true CPU demand ±50%, uniformly), SRPT-RANDOM-40% (40% of invocations get a random
 * prediction, the rest the true demand) and RANDOM (every prediction random). A random
 * prediction is uniform over [min, max] of the workload's demands.
 *
 * It runs on the simulated machine through the delegated-scheduling seam (src/sim/agent.ts)
 * with every delegation cost set to 0, so it is a global, preemptive, work-conserving
 * scheduler like the built-in SRPT oracle, only ordered by predicted remaining time:
 * predicted size minus CPU time used so far (floored at 0, as a mispredicted job that outlives
 * its prediction looks "almost done").
 */
export type Prediction = 'exact' | 'error-bounded' | 'random-40' | 'random';

export function predictions(w: Workload, kind: Prediction, seed: number, errorBound = 0.5): Ns[] {
  const rng = new Rng(seed, `srpt-prediction:${kind}`);
  const demand = w.invocations.map(cpuDemandNs);
  let lo = Infinity;
  let hi = 0;
  for (const d of demand) {
    if (d < lo) lo = d;
    if (d > hi) hi = d;
  }
  return demand.map((d) => {
    switch (kind) {
      case 'exact':
        return d;
      case 'error-bounded':
        return d * rng.uniform(1 - errorBound, 1 + errorBound);
      case 'random-40':
        return rng.next() < 0.4 ? rng.uniform(lo, hi) : d;
      case 'random':
        return rng.uniform(lo, hi);
    }
  });
}

interface Tracked {
  id: number;
  pred: Ns;
  /** CPU time used as of the last message. */
  runtime: Ns;
  queued: boolean;
  /** When it was last committed to a CPU (to estimate CPU time used while running). */
  startedAt: Ns;
}

export class PredictedSrptAgent implements DelegatedAgent {
  readonly name = 'predicted-srpt';
  readonly wantsTicks = false;
  private readonly tasks = new Map<number, Tracked>();
  private queue: Tracked[] = [];
  private onCpu: (Tracked | null)[] = [];

  constructor(private readonly predicted: readonly Ns[]) {}

  init(ncpus: number): void {
    this.onCpu = new Array<Tracked | null>(ncpus).fill(null);
  }

  private track(m: GhostMessage): Tracked {
    let t = this.tasks.get(m.taskId);
    if (!t) {
      t = { id: m.taskId, pred: this.predicted[m.taskId] ?? 0, runtime: 0, queued: false, startedAt: 0 };
      this.tasks.set(m.taskId, t);
    }
    t.runtime = m.runtimeNs;
    return t;
  }

  private remaining(t: Tracked, now: Ns, running: boolean): Ns {
    const used = running ? t.runtime + (now - t.startedAt) : t.runtime;
    return Math.max(0, t.pred - used);
  }

  private enqueue(t: Tracked): void {
    if (t.queued) return;
    t.queued = true;
    this.queue.push(t);
  }

  private popBest(now: Ns): Tracked | null {
    const q = this.queue;
    if (q.length === 0) return null;
    let bi = 0;
    let best = this.remaining(q[0]!, now, false);
    for (let i = 1; i < q.length; i++) {
      const r = this.remaining(q[i]!, now, false);
      if (r < best || (r === best && q[i]!.id < q[bi]!.id)) {
        best = r;
        bi = i;
      }
    }
    const t = q[bi]!;
    q[bi] = q[q.length - 1]!;
    q.pop();
    t.queued = false;
    return t;
  }

  private clearCpu(cpu: number, t: Tracked): void {
    if (cpu >= 0 && this.onCpu[cpu] === t) this.onCpu[cpu] = null;
  }

  onMessages(batch: readonly GhostMessage[], now: Ns, out: GhostTxn[]): void {
    for (const m of batch) {
      if (m.taskId < 0) continue;
      const t = this.track(m);
      switch (m.type) {
        case 'TASK_NEW':
        case 'TASK_WAKEUP':
          this.enqueue(t);
          break;
        case 'TASK_PREEMPT':
        case 'TXN_FAILED':
          // Back to the queue: displaced by our own commit, or our commit did not land.
          this.clearCpu(m.cpu, t);
          this.enqueue(t);
          break;
        case 'TASK_BLOCKED':
        case 'TASK_DEAD':
          this.clearCpu(m.cpu, t);
          if (m.type === 'TASK_DEAD') this.tasks.delete(t.id);
          break;
        case 'CPU_TICK':
          break;
      }
    }
    // Idle CPUs take the best queued tasks.
    for (let c = 0; c < this.onCpu.length && this.queue.length > 0; c++) {
      if (this.onCpu[c] === null) this.commit(c, this.popBest(now)!, now, out);
    }
    // Then preempt while the best queued task has less predicted work left than the worst running.
    while (this.queue.length > 0) {
      let worst = -1;
      let worstRem = -1;
      for (let c = 0; c < this.onCpu.length; c++) {
        const r = this.remaining(this.onCpu[c]!, now, true);
        if (r > worstRem) {
          worstRem = r;
          worst = c;
        }
      }
      let best: Tracked | null = null;
      let bestRem = Infinity;
      for (const q of this.queue) {
        const r = this.remaining(q, now, false);
        if (r < bestRem) {
          bestRem = r;
          best = q;
        }
      }
      if (!best || bestRem >= worstRem) break;
      this.queue.splice(this.queue.indexOf(best), 1);
      best.queued = false;
      // The displaced task comes back through TASK_PREEMPT.
      this.commit(worst, best, now, out);
    }
  }

  private commit(cpu: number, t: Tracked, now: Ns, out: GhostTxn[]): void {
    this.onCpu[cpu] = t;
    t.startedAt = now;
    out.push({ cpu, taskId: t.id });
  }
}

/** A learner that never learns: the delegated path asks for one, predicted SRPT needs none. */
class NoLearner implements PolicyLearner {
  readonly current: Policy | undefined = undefined;
  constructor(readonly params: Readonly<LearnerParams>) {}
  observe(): void {}
  learn(): Policy {
    return { generation: 0, params: this.params, entries: [] };
  }
  setParams(): void {}
}

/** A `Simulate` that runs SRPT on `kind` predictions (seeded by the run's seed). */
export function predictedSrpt(kind: Prediction, errorBound = 0.5): Simulate {
  return (w: Workload, o: SimOptions): SimResult => {
    const agent = new PredictedSrptAgent(predictions(w, kind, o.seed, errorBound));
    const r = simulateMachine(
      w,
      { ...o, scheduler: 'alps-delegated', tunables: { 'ghost.msgNs': 0, 'ghost.txnNs': 0, 'ghost.ipiNs': 0 } },
      { agent, learner: (p) => new NoLearner({ windowNs: 1e15, ...p } as LearnerParams) },
    );
    return { ...r, scheduler: `srpt-${kind}`, policies: [] };
  };
}
