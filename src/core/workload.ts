import type { FuncId } from './ids.js';
import type { Ns } from './time.js';

/** Duration groups of the ALPS paper's Table 1 (by CPU demand of one invocation). */
export type Group = 1 | 2 | 3 | 4;

/** Group of an invocation with the given CPU demand (Table 1: <50, <200, <400, ≥400 ms). */
export function groupOf(cpuNs: Ns): Group {
  if (cpuNs < 50_000_000) return 1;
  if (cpuNs < 200_000_000) return 2;
  if (cpuNs < 400_000_000) return 3;
  return 4;
}

/** One phase of an invocation: run on a CPU for `ns`, or block (sleep, I/O) for `ns`. */
export interface Phase {
  kind: 'cpu' | 'block';
  ns: Ns;
}

/** A function deployment in a workload. */
export interface FunctionInfo {
  funcId: FuncId;
  name: string;
  /** The app it runs: fib, bfs, mst, pagerank, feature, float, io, … */
  app: string;
  /** Table 1 group of its mean CPU demand. */
  group: Group;
}

/** One invocation to run: arrives at `arrivalNs`, then executes `phases` in order. */
export interface InvocationSpec {
  id: number;
  funcId: FuncId;
  arrivalNs: Ns;
  phases: Phase[];
}

/** A workload: functions plus invocations sorted by arrival. */
export interface Workload {
  name: string;
  functions: FunctionInfo[];
  invocations: InvocationSpec[];
}

/** Total CPU demand of an invocation. */
export function cpuDemandNs(spec: InvocationSpec): Ns {
  let total = 0;
  for (const p of spec.phases) if (p.kind === 'cpu') total += p.ns;
  return total;
}
