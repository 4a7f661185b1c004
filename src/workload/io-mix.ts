import type { FuncId } from '../core/ids.js';
import { msToNs, NS_PER_S } from '../core/time.js';
import { groupOf, type FunctionInfo, type InvocationSpec, type Phase } from '../core/workload.js';
import { appCostNs } from './apps.js';
import { arrivalTimes, type GenerationOptions } from './arrivals.js';
import type { WorkloadBundle } from './bundle.js';
import { Rng } from '../core/prng.js';
import { JITTER_SIGMA, validateScale } from './table1.js';

/**
 * The mixed workload of the I/O study (seed 001, §6.3 and Table 1): four classes arriving
 * concurrently.
 * - classes 1–2, I/O-bound: a short CPU burst (parse a request), a block (the I/O wait), a
 *   short CPU burst (handle the reply); class 2 is "larger" in every phase;
 * - classes 3–4, CPU-bound: fib with a larger argument for class 4.
 * The study gives no shares or phase lengths (its host was heavily overloaded: class 4 took
 * ~800 s); we keep its structure and the ratio class 4 / class 3 ≈ 3.5 of its CFS averages,
 * with run times a simulator can sweep in seconds. Three deployments per class, ±20% apart.
 */
interface IoClass {
  key: '1' | '2' | '3' | '4';
  label: string;
  share: number;
  /** Phases of one invocation at deployment scale `k`. */
  phases(rng: Rng, k: number): Phase[];
}

const cpu = (ns: number): Phase => ({ kind: 'cpu', ns: Math.max(1000, Math.round(ns)) });
const block = (ns: number): Phase => ({ kind: 'block', ns: Math.max(1000, Math.round(ns)) });
const jitter = (rng: Rng): number => Math.exp(JITTER_SIGMA * rng.normal());

export const IO_CLASSES: readonly IoClass[] = [
  {
    key: '1',
    label: 'class 1 (I/O: 3–8 ms CPU, 100–200 ms block, 3–8 ms CPU)',
    share: 0.3,
    phases: (r, k) => [cpu(k * msToNs(r.uniform(3, 8))), block(k * msToNs(r.uniform(100, 200))), cpu(k * msToNs(r.uniform(3, 8)))],
  },
  {
    key: '2',
    label: 'class 2 (I/O: 8–16 ms CPU, 200–400 ms block, 8–16 ms CPU)',
    share: 0.3,
    phases: (r, k) => [cpu(k * msToNs(r.uniform(8, 16))), block(k * msToNs(r.uniform(200, 400))), cpu(k * msToNs(r.uniform(8, 16)))],
  },
  {
    key: '3',
    label: 'class 3 (CPU: fib 30–31, ~170 ms)',
    share: 0.25,
    phases: (r) => [cpu(appCostNs('fib', r.int(30, 31)) * jitter(r))],
  },
  {
    key: '4',
    label: 'class 4 (CPU: fib 32–34, ~580 ms)',
    share: 0.15,
    phases: (r) => [cpu(appCostNs('fib', r.int(32, 34)) * jitter(r))],
  },
];

const SCALES = [0.8, 1, 1.2];

export type IoMixOptions = GenerationOptions;

export function ioMixWorkload(opts: IoMixOptions): WorkloadBundle {
  const { invocations: n, cpus, load, seed } = opts;
  validateScale(n, cpus, load);
  const law = opts.arrivals ?? 'exponential';
  const pick = new Rng(seed, 'io-mix:pick');
  const param = new Rng(seed, 'io-mix:param');
  const gaps = new Rng(seed, `io-mix:arrivals:${law}`);

  // Deployment funcIds: class c (1-based), scale index s → 10·c + s + 1.
  const idOf = (c: number, s: number): FuncId => 10 * (c + 1) + s + 1;
  const cpuSum = new Map<FuncId, { sum: number; count: number }>();
  const draws: { funcId: FuncId; phases: Phase[] }[] = new Array(n);
  let total = 0;
  const shares = IO_CLASSES.map((c) => c.share);
  for (let i = 0; i < n; i++) {
    const c = pick.weighted(shares);
    const s = Math.floor(pick.next() * SCALES.length);
    const phases = IO_CLASSES[c]!.phases(param, SCALES[s]!);
    const funcId = idOf(c, s);
    let d = 0;
    for (const p of phases) if (p.kind === 'cpu') d += p.ns;
    total += d;
    const acc = cpuSum.get(funcId) ?? { sum: 0, count: 0 };
    acc.sum += d;
    acc.count++;
    cpuSum.set(funcId, acc);
    draws[i] = { funcId, phases };
  }
  const meanCpuNs = total / n;
  const ratePerNs = (load * cpus) / meanCpuNs;
  const arrivals = arrivalTimes(n, 1 / ratePerNs, law, gaps, opts.burst);
  const invocations: InvocationSpec[] = draws.map((d, i) => ({ id: i + 1, funcId: d.funcId, arrivalNs: arrivals[i]!, phases: d.phases }));

  const functions: FunctionInfo[] = [];
  const of = new Map<FuncId, string>();
  IO_CLASSES.forEach((cls, c) => {
    SCALES.forEach((_, s) => {
      const funcId = idOf(c, s);
      const acc = cpuSum.get(funcId);
      if (!acc) return;
      const io = cls.key === '1' || cls.key === '2';
      functions.push({ funcId, name: `${io ? 'io' : 'fib'}-c${cls.key}-${s + 1}`, app: io ? 'io' : 'fib', group: groupOf(acc.sum / acc.count) });
      of.set(funcId, cls.key);
    });
  });
  const labels: Record<string, string> = {};
  for (const c of IO_CLASSES) labels[c.key] = c.label;
  const span = arrivals[n - 1]!;
  return {
    workload: { name: 'io-mix', functions, invocations },
    description: `io-mix (I/O study classes 1–4), ${n} invocations, ${law} arrivals at ${(load * 100).toFixed(0)}% CPU of ${cpus} CPUs`,
    cpus,
    offeredLoad: span > 0 ? total / (cpus * span) : Infinity,
    meanCpuNs,
    ratePerSec: ratePerNs * NS_PER_S,
    classes: { of, labels },
  };
}
