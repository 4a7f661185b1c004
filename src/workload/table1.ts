import { InputError } from '../core/errors.js';
import type { Group } from '../core/workload.js';
import { PAPER_DEPLOYMENTS, type Deployment } from './deployments.js';
import { appCostNs } from './apps.js';
import { arrivalTimes, type GenerationOptions } from './arrivals.js';
import type { WorkloadBundle } from './bundle.js';
import { Rng } from '../core/prng.js';
import type { InvocationSpec } from '../core/workload.js';
import { NS_PER_S } from '../core/time.js';

/** Group shares of the ALPS paper's Table 1 (fractions of invocations per group 1–4). */
export const TABLE1_SHARES = {
  huawei: [0.698, 0.232, 0.06, 0.01],
  azure: [0.429, 0.172, 0.167, 0.232],
} as const satisfies Record<string, readonly [number, number, number, number]>;
export type Table1Mix = keyof typeof TABLE1_SHARES;
export const TABLE1_MIXES: readonly Table1Mix[] = ['huawei', 'azure'];

/**
 * Run-to-run jitter of one invocation on top of its parameter draw: a lognormal factor with
 * this σ (≈3%), standing in for cache, frequency and allocator noise of a real host.
 */
export const JITTER_SIGMA = 0.03;

export interface Table1Options extends GenerationOptions {
  mix: Table1Mix;
  deployments?: readonly Deployment[];
}

export function validateScale(invocations: number, cpus: number, load: number): void {
  if (!Number.isInteger(invocations) || invocations < 1) throw new InputError('--invocations', `must be a positive integer, got ${invocations}`);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096) throw new InputError('--cpus', `must be an integer in 1..4096, got ${cpus}`);
  if (!(load > 0 && load <= 4)) throw new InputError('--load', `must be in (0, 4] (fraction of total CPU; 0.9 = 90%), got ${load}`);
}

/**
 * Table 1 workload: each invocation picks a group by the mix's shares, a deployment of that
 * group uniformly, a parameter uniformly from the deployment's range, and a small jitter;
 * arrivals follow `arrivals` with λ = U·C / E[S], E[S] being the mean demand of the
 * invocations actually drawn (so the offered load is U exactly in expectation of the gaps).
 */
export function table1Workload(opts: Table1Options): WorkloadBundle {
  const { mix, invocations: n, cpus, load, seed } = opts;
  validateScale(n, cpus, load);
  const law = opts.arrivals ?? 'exponential';
  const deployments = opts.deployments ?? PAPER_DEPLOYMENTS;
  const byGroup: Deployment[][] = [[], [], [], []];
  for (const d of deployments) byGroup[d.group - 1]!.push(d);
  const shares = TABLE1_SHARES[mix].map((s, g) => (byGroup[g]!.length > 0 ? s : 0));

  // Independent streams: the function sequence does not depend on the load or arrival law.
  const pick = new Rng(seed, `table1:${mix}:pick`);
  const param = new Rng(seed, `table1:${mix}:param`);
  const gaps = new Rng(seed, `table1:${mix}:arrivals:${law}`);

  const chosen: Deployment[] = new Array(n);
  const demand: number[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const g = pick.weighted(shares) as 0 | 1 | 2 | 3;
    const list = byGroup[g]!;
    const d = list[Math.floor(pick.next() * list.length)]!;
    const p = param.int(d.paramLo, d.paramHi);
    const ns = Math.max(1000, Math.round(appCostNs(d.app, p) * Math.exp(JITTER_SIGMA * param.normal())));
    chosen[i] = d;
    demand[i] = ns;
    total += ns;
  }
  const meanCpuNs = total / n;
  const ratePerNs = (load * cpus) / meanCpuNs;
  const arrivals = arrivalTimes(n, 1 / ratePerNs, law, gaps, opts.burst);
  const invocations: InvocationSpec[] = new Array(n);
  for (let i = 0; i < n; i++) {
    invocations[i] = { id: i + 1, funcId: chosen[i]!.funcId, arrivalNs: arrivals[i]!, phases: [{ kind: 'cpu', ns: demand[i]! }] };
  }
  const used = new Set(chosen.map((d) => d.funcId));
  const functions = deployments
    .filter((d) => used.has(d.funcId))
    .map((d) => ({ funcId: d.funcId, name: d.name, app: d.app, group: d.group as Group }));
  const span = arrivals[n - 1]!;
  return {
    workload: { name: mix, functions, invocations },
    description: `${mix} (Table 1 mix, ${deployments.length} deployments), ${n} invocations, ${law} arrivals at ${(load * 100).toFixed(0)}% of ${cpus} CPUs`,
    cpus,
    offeredLoad: span > 0 ? total / (cpus * span) : Infinity,
    meanCpuNs,
    ratePerSec: ratePerNs * NS_PER_S,
  };
}
