import type { InvocationSpec, LearnerParams, Ns, Phase, Policy, PolicyEntry, PolicyLearner, Workload } from '../../src/core/index.js';
import type { MachineApi } from '../../src/sim/model.js';
import { SimTask, TaskState } from '../../src/sim/task.js';

/** A workload from [arrivalNs, phases] pairs; funcId defaults to 1. */
export function workload(items: { at: Ns; phases: Phase[]; funcId?: number }[]): Workload {
  const invocations: InvocationSpec[] = items.map((x, i) => ({ id: i, funcId: x.funcId ?? 1, arrivalNs: x.at, phases: x.phases }));
  return { name: 'test', functions: [], invocations };
}

export const cpu = (ns: Ns): Phase => ({ kind: 'cpu', ns });
export const block = (ns: Ns): Phase => ({ kind: 'block', ns });
export const MS = 1_000_000;

/** Seeded exponential workload (LCG, independent of the simulator's PRNG). */
export function expWorkload(n: number, cpus: number, load: number, meanNs: Ns, seed: number, funcs = 4): Workload {
  let s = seed >>> 0;
  const r = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const items: { at: Ns; phases: Phase[]; funcId: number }[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += Math.round((-Math.log(r()) * meanNs) / (load * cpus));
    const f = 1 + Math.floor(r() * funcs);
    const d = Math.max(1000, Math.round(-Math.log(r()) * meanNs * (f / ((funcs + 1) / 2))));
    items.push({ at: t, phases: [cpu(d)], funcId: f });
  }
  return workload(items);
}

/** A learner that always returns the same entries (no learning), every `windowNs`. */
export function fixedLearner(entries: PolicyEntry[], windowNs: Ns = 100 * MS): () => PolicyLearner {
  return () => {
    const params = { windowNs } as LearnerParams;
    let gen = 0;
    let cur: Policy | undefined;
    return {
      params,
      get current() {
        return cur;
      },
      observe() {},
      learn() {
        cur = { generation: ++gen, params, entries };
        return cur;
      },
      setParams() {},
    };
  };
}

/** A hand-driven machine for model unit tests: no events, just state the test sets. */
export class FakeMachine implements MachineApi {
  now: Ns = 0;
  tickNs: Ns = 4 * MS;
  readonly running: (SimTask | null)[];
  readonly rescheds: number[] = [];
  constructor(readonly ncpus: number) {
    this.running = new Array<SimTask | null>(ncpus).fill(null);
  }
  curr(c: number): SimTask | null {
    return this.running[c]!;
  }
  resched(c: number): void {
    this.rescheds.push(c);
  }
  updateCurr(): void {}
  post(): void {}
  remainingCpu(t: SimTask): Ns {
    return t.remainingCpuNs;
  }
  task(): SimTask {
    throw new Error('not used');
  }
  idleSince(): Ns {
    return 0;
  }
  placeNew(): number {
    return 0;
  }
  placeWakeup(t: SimTask): number {
    return Math.max(0, t.cpu);
  }
}

let nextId = 1000;
/** A bare task for model unit tests. */
export function task(opts: { vruntime?: Ns; funcId?: number; cpuNs?: Ns } = {}): SimTask {
  const t = new SimTask({ id: nextId++, funcId: opts.funcId ?? 1, arrivalNs: 0, phases: [cpu(opts.cpuNs ?? 100 * MS)] }, 0);
  t.vruntime = opts.vruntime ?? 0;
  t.state = TaskState.runnable;
  return t;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
