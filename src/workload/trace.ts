import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import { msToNs, NS_PER_S } from '../core/time.js';
import { groupOf, type FunctionInfo, type InvocationSpec } from '../core/workload.js';
import { appCostNs, parseAppName, type AppName } from './apps.js';
import type { WorkloadBundle } from './bundle.js';
import { Rng } from './rng.js';
import { JITTER_SIGMA, validateScale } from './table1.js';

/**
 * Replay of the ALPS artifact's load-generator files (`http_client/exp`, `http_client/azure`):
 * one invocation per line, five space-separated columns `id n app gap port`
 * (facts/alps-artifact-traces.md §1). The files carry no durations, so each row's CPU demand
 * comes from the app cost model (apps.ts) at the row's `n`, with the same small jitter as the
 * generated mixes. funcId = port − 5000, as the artifact's profiler maps it.
 *
 * Arrival i is at s · (gap₁ + … + gapᵢ). With `msPerUnit` the scale s is fixed (0.21 is
 * run.go's); otherwise s is calibrated so the offered load on `cpus` CPUs equals `load`:
 * s = Σ cpu / (load · cpus · Σ gap).
 */
export interface TraceOptions {
  cpus: number;
  load?: number;
  msPerUnit?: number;
  seed: number;
  /** Keep only the first `limit` rows. */
  limit?: number;
}

/** Deployment names the artifact gives its ports (facts/alps-artifact-traces.md §2). */
const ARTIFACT_NAMES: Record<number, string> = {
  2: 'fib1',
  6: 'fib2',
  8: 'graphBfs3',
  9: 'graphMst3',
  10: 'graphPagerank3',
  11: 'fib3',
  14: 'featureExtractor3',
  18: 'fib4',
  20: 'floatOperation4',
  21: 'fib5',
};

interface Row {
  n: number;
  app: AppName;
  gap: number;
  funcId: FuncId;
}

function parseRows(text: string, file: string, limit: number): Row[] {
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && rows.length < limit; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    const cols = line.split(/\s+/);
    if (cols.length !== 5) throw new InputError(where, `expected 5 space-separated columns (id n app gap port), got ${cols.length}`);
    const [, nStr, appStr, gapStr, portStr] = cols as [string, string, string, string, string];
    const n = Number(nStr);
    const gap = Number(gapStr);
    const port = Number(portStr);
    if (!Number.isInteger(n) || n < 0) throw new InputError(where, `column 2 (n) must be a non-negative integer, got "${nStr}"`);
    if (!Number.isInteger(gap) || gap < 0) throw new InputError(where, `column 4 (gap) must be a non-negative integer, got "${gapStr}"`);
    if (!Number.isInteger(port) || port <= 5000 || port > 5000 + 0xffff) throw new InputError(where, `column 5 (port) must be an integer above 5000, got "${portStr}"`);
    rows.push({ n, app: parseAppName(appStr, `${where} column 3`), gap, funcId: port - 5000 });
  }
  if (rows.length === 0) throw new InputError(file, 'no invocation rows (expected lines "id n app gap port")');
  return rows;
}

export function readArtifactTrace(path: string, opts: TraceOptions): WorkloadBundle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(path, `cannot read trace file: ${(e as Error).message}`);
  }
  return parseArtifactTrace(text, path, opts);
}

export function parseArtifactTrace(text: string, file: string, opts: TraceOptions): WorkloadBundle {
  const rows = parseRows(text, file, opts.limit ?? Infinity);
  const load = opts.load ?? 0.9;
  validateScale(rows.length, opts.cpus, load);
  if (opts.msPerUnit !== undefined && !(opts.msPerUnit > 0)) throw new InputError('--ms-per-unit', `must be > 0, got ${opts.msPerUnit}`);
  const rng = new Rng(opts.seed, `trace:${file}`);
  const demand = rows.map((r) => Math.max(1000, Math.round(appCostNs(r.app, r.n) * Math.exp(JITTER_SIGMA * rng.normal()))));
  const totalCpu = demand.reduce((a, b) => a + b, 0);
  const totalGap = rows.reduce((a, r) => a + r.gap, 0);
  if (totalGap === 0) throw new InputError(file, 'every gap (column 4) is 0: arrivals cannot be scaled');
  const unitNs = opts.msPerUnit !== undefined ? msToNs(opts.msPerUnit) : totalCpu / (load * opts.cpus * totalGap);

  const invocations: InvocationSpec[] = [];
  const perFunc = new Map<FuncId, { app: AppName; sum: number; count: number }>();
  let t = 0;
  rows.forEach((r, i) => {
    t += r.gap * unitNs;
    invocations.push({ id: i + 1, funcId: r.funcId, arrivalNs: Math.round(t), phases: [{ kind: 'cpu', ns: demand[i]! }] });
    const acc = perFunc.get(r.funcId) ?? { app: r.app, sum: 0, count: 0 };
    acc.sum += demand[i]!;
    acc.count++;
    perFunc.set(r.funcId, acc);
  });
  const functions: FunctionInfo[] = [...perFunc.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([funcId, acc]) => ({ funcId, name: ARTIFACT_NAMES[funcId] ?? `${acc.app}@${funcId + 5000}`, app: acc.app, group: groupOf(acc.sum / acc.count) }));
  const span = invocations[invocations.length - 1]!.arrivalNs;
  const name = file.split('/').pop() ?? file;
  const offered = span > 0 ? totalCpu / (opts.cpus * span) : Infinity;
  return {
    workload: { name, functions, invocations },
    description:
      `trace ${name}: ${rows.length} rows, ${functions.length} deployments, gap unit ${(unitNs / 1e6).toFixed(3)} ms ` +
      `(${opts.msPerUnit !== undefined ? 'fixed' : `scaled to ${(load * 100).toFixed(0)}%`} on ${opts.cpus} CPUs)`,
    cpus: opts.cpus,
    offeredLoad: offered,
    meanCpuNs: totalCpu / rows.length,
    ratePerSec: span > 0 ? (rows.length / span) * NS_PER_S : Infinity,
  };
}
