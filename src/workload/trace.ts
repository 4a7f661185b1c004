import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import { msToNs, NS_PER_S } from '../core/time.js';
import { groupOf, type FunctionInfo, type InvocationSpec } from '../core/workload.js';
import { appCostMs, appCostNs, appParamFor, parseAppName, type AppName } from './apps.js';
import { openTraceFile, readLines } from './invocation-io/lines.js';
import type { WorkloadBundle } from './bundle.js';
import { Rng } from '../core/prng.js';
import { JITTER_SIGMA, validateScale } from './table1.js';

/**
 * Replay of the ALPS artifact's load-generator files (`http_client/exp`, `http_client/azure`):
 * one invocation per line, five space-separated columns `id n app gap port`
 * (docs/artifact-traces.md §1). The files carry no durations, so each row's CPU demand
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

/** Deployment names the artifact gives its ports (docs/artifact-traces.md §2). */
const ARTIFACT_NAMES = new Map<number, string>(Object.entries({
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
}).map(([k, v]) => [Number(k), v]));

interface Row {
  n: number;
  app: AppName;
  gap: number;
  funcId: FuncId;
}

/**
 * Largest CPU demand one trace row may ask for. The cost models grow fast (fib is φⁿ: n = 70
 * would be ~10¹⁰ ms and the simulator would run for hours), so a row beyond this is refused
 * with the bound in the message. The artifact's own rows stay below 2 s.
 */
export const MAX_ROW_CPU_MS = 600_000;
/** Largest gap (column 4) of one row, in trace units. */
export const MAX_ROW_GAP = 1_000_000_000;
/**
 * Longest span of arrivals a replayed trace may cover: 7 days. The simulator's learner rounds
 * and ticks follow virtual time, so a trace spanning years (a 1e15 ns arrival) would run for
 * hours; a week replays in seconds.
 */
export const MAX_TRACE_SPAN_NS = 7 * 24 * 3600 * 1e9;

/** One row `id n app gap port` → a Row, or undefined for blank and comment lines. */
function parseRow(raw: string, where: string): Row | undefined {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const cols = line.split(/\s+/);
  if (cols.length !== 5) throw new InputError(where, `expected 5 space-separated columns (id n app gap port), got ${cols.length}`);
  const [, nStr, appStr, gapStr, portStr] = cols as [string, string, string, string, string];
  const n = Number(nStr);
  const gap = Number(gapStr);
  const port = Number(portStr);
  if (!Number.isSafeInteger(n) || n < 0) throw new InputError(where, `column 2 (n) must be a non-negative integer, got "${short(nStr)}"`);
  if (!Number.isSafeInteger(gap) || gap < 0 || gap > MAX_ROW_GAP) throw new InputError(where, `column 4 (gap) must be an integer in 0..${MAX_ROW_GAP}, got "${short(gapStr)}"`);
  if (!Number.isInteger(port) || port <= 5000 || port > 5000 + 0xffff) throw new InputError(where, `column 5 (port) must be an integer in 5001..${5000 + 0xffff}, got "${short(portStr)}"`);
  const app = parseAppName(appStr, `${where} column 3`);
  const costMs = appCostMs(app, n);
  if (!(costMs <= MAX_ROW_CPU_MS)) {
    throw new InputError(where, `column 2 (n) = ${n} makes one ${app} invocation cost ${Number.isFinite(costMs) ? `${Math.round(costMs / 1000)} s` : 'unboundedly long'} of CPU; the limit is ${MAX_ROW_CPU_MS / 1000} s (${app} n ≤ ${maxParam(app)})`);
  }
  return { n, app, gap, funcId: port - 5000 };
}

const short = (s: string): string => (s.length > 24 ? `${s.slice(0, 21)}...` : s);

/** Largest n of `app` whose cost is within MAX_ROW_CPU_MS. */
function maxParam(app: AppName): number {
  let n = Math.max(0, appParamFor(app, MAX_ROW_CPU_MS));
  while (n > 0 && appCostMs(app, n) > MAX_ROW_CPU_MS) n--;
  return n;
}

function parseRows(text: string, file: string, limit: number): Row[] {
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && rows.length < limit; i++) {
    const row = parseRow(lines[i]!, `${file}:${i + 1}`);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * Reads an artifact trace file as a stream of lines (each at most MAX_TRACE_LINE_CHARS), and
 * stops at `limit` rows: a 200 MB trace with `--invocations 1000` reads only its first rows.
 */
export async function readArtifactTrace(path: string, opts: TraceOptions): Promise<WorkloadBundle> {
  const limit = opts.limit ?? Infinity;
  const input = await openTraceFile(path);
  const rows: Row[] = [];
  try {
    for await (const { n, text } of readLines(input, path)) {
      if (rows.length >= limit) break;
      const row = parseRow(text, `${path}:${n}`);
      if (row) rows.push(row);
    }
  } finally {
    input.destroy();
  }
  return bundleOf(rows, path, opts);
}

export function parseArtifactTrace(text: string, file: string, opts: TraceOptions): WorkloadBundle {
  return bundleOf(parseRows(text, file, opts.limit ?? Infinity), file, opts);
}

function bundleOf(rows: Row[], file: string, opts: TraceOptions): WorkloadBundle {
  if (rows.length === 0) throw new InputError(file, 'no invocation rows (expected lines "id n app gap port")');
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
  const last = rows.reduce((a, r) => a + r.gap, 0) * unitNs;
  if (!(last <= MAX_TRACE_SPAN_NS)) throw new InputError(file, `the arrivals span ${(last / 86400e9).toPrecision(3)} days; the limit is 7 days (use a smaller --ms-per-unit, or fewer rows)`);
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
    .map(([funcId, acc]) => ({ funcId, name: ARTIFACT_NAMES.get(funcId) ?? `${acc.app}@${funcId + 5000}`, app: acc.app, group: groupOf(acc.sum / acc.count) }));
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
