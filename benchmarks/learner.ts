/**
 * `npm run bench -- learner [--json] [--runs N] [--cpus C]`: the shape of the ALPS paper's Table 2
 * (frontend cost by number of input records) for this TypeScript learner. Rows:
 * - replay: the SRPT replay of N records (the paper's "Simulation" row);
 * - avg / linreg / forest / ewma: learning from that replay's output (aggregation, Eq. 1 model,
 *   ranking, Eq. 2/3 fine-tuning), as the paper's model rows;
 * plus, in the table and as `roundMs` in JSON, one whole `learnPolicy` round (replay + model).
 * Records: a seeded synthetic window of Table 1's Huawei mix (10 functions, G1–G4) with Poisson
 * arrivals at 80% load on the replayed CPUs.
 */
import type { InvocationRecord } from '../src/core/index.js';
import { learnPolicy, resolveParams, srptReplay, type AlpsParams } from '../src/learner/index.js';
import { learnFromReplay } from '../src/learner/learn.js';
import { Rng } from '../src/core/prng.js';
import { median, timeRuns } from './stats.js';

export const SIZES = [100, 200, 500, 1000, 2000, 5000] as const;
const MODELS = ['avg', 'linreg', 'forest', 'ewma'] as const;

/** Paper Table 2 (seconds), Python frontend. */
const PAPER: Record<string, readonly number[]> = {
  avg: [0.005, 0.006, 0.007, 0.008, 0.01, 0.013],
  linreg: [0.009, 0.009, 0.01, 0.011, 0.012, 0.016],
  forest: [0.079, 0.08, 0.083, 0.087, 0.094, 0.127],
  ewma: [0.006, 0.006, 0.007, 0.007, 0.009, 0.014],
  replay: [0.007, 0.015, 0.039, 0.079, 0.161, 0.406],
};

/** Ten functions, Table 1 Huawei shares (G1 69.8 %, G2 23.2 %, G3 6 %, G4 1 %), ms of CPU. */
const FUNCS: { funcId: number; share: number; ms: number }[] = [
  { funcId: 2, share: 0.2, ms: 12 },
  { funcId: 8, share: 0.15, ms: 25 },
  { funcId: 9, share: 0.15, ms: 30 },
  { funcId: 10, share: 0.1, ms: 35 },
  { funcId: 14, share: 0.098, ms: 45 },
  { funcId: 6, share: 0.12, ms: 80 },
  { funcId: 11, share: 0.07, ms: 120 },
  { funcId: 20, share: 0.042, ms: 170 },
  { funcId: 18, share: 0.06, ms: 300 },
  { funcId: 21, share: 0.01, ms: 600 },
];

/** A seeded synthetic window of `n` completed invocations at `load` on `cpus` CPUs. */
export function syntheticRecords(n: number, cpus: number, seed = 1, load = 0.8): InvocationRecord[] {
  const rng = new Rng(seed, 'bench:synthetic-records');
  const meanMs = FUNCS.reduce((s, f) => s + f.share * f.ms, 0);
  const gapMs = meanMs / (load * cpus);
  const out: InvocationRecord[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += -Math.log(1 - rng.next()) * gapMs;
    let u = rng.next();
    let f = FUNCS[FUNCS.length - 1]!;
    for (const g of FUNCS) {
      if (u < g.share) {
        f = g;
        break;
      }
      u -= g.share;
    }
    const cpuNs = Math.round(f.ms * (0.8 + 0.4 * rng.next()) * 1e6);
    const arrivalNs = Math.round(t * 1e6);
    out.push({ funcId: f.funcId, arrivalNs, endNs: arrivalNs + 2 * cpuNs, cpuNs, id: i });
  }
  return out;
}

interface Row {
  records: number;
  model: (typeof MODELS)[number] | 'replay';
  medianMs: number;
  roundMs?: number;
}

export async function learnerBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const opt = (name: string, def: number): number => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? Number(argv[i + 1]) : def;
    if (!Number.isInteger(v) || v < 1) throw new Error(`bench learner: ${name} must be a positive integer`);
    return v;
  };
  const runs = opt('--runs', 15);
  const cpus = opt('--cpus', 1);
  const rows: Row[] = [];
  for (const n of SIZES) {
    const records = syntheticRecords(n, cpus);
    const base: Partial<AlpsParams> = { cpus, maxRecords: n };
    const p = resolveParams(base);
    const jobs = records.map((r) => ({ funcId: r.funcId, arrivalNs: r.arrivalNs, burstNs: r.cpuNs }));
    rows.push({ records: n, model: 'replay', medianMs: median(timeRuns(() => srptReplay(jobs, { cpus, quantumNs: p.quantumNs }), runs)) });
    const replay = srptReplay(jobs, { cpus, quantumNs: p.quantumNs });
    for (const model of MODELS) {
      const pm = resolveParams({ ...base, model });
      const learnMs = median(timeRuns(() => learnFromReplay(records, replay.outcomes, pm, undefined, 85, {}), runs));
      const roundMs = median(timeRuns(() => learnPolicy(records, pm, undefined, 85), runs));
      rows.push({ records: n, model, medianMs: learnMs, roundMs });
    }
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const get = (n: number, m: string, k: 'medianMs' | 'roundMs' = 'medianMs'): number => rows.find((r) => r.records === n && r.model === m)![k]!;
  const fmt = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1)).padStart(8);
  const lines = [
    `ALPS learner cost, median of ${runs} runs, ms (ghost-alps TS on this machine | paper Table 2, Python); replay on ${cpus} CPU(s)`,
    `${'records'.padEnd(22)}${SIZES.map((n) => String(n).padStart(8)).join('')}`,
  ];
  for (const m of [...MODELS, 'replay'] as const) {
    lines.push(`${`${m} (ts)`.padEnd(22)}${SIZES.map((n) => fmt(get(n, m))).join('')}`);
    lines.push(`${`${m} (paper)`.padEnd(22)}${PAPER[m]!.map((s) => fmt(s * 1000)).join('')}`);
  }
  for (const m of MODELS) lines.push(`${`round replay+${m}`.padEnd(22)}${SIZES.map((n) => fmt(get(n, m, 'roundMs'))).join('')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
