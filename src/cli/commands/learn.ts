import type { Argv } from 'yargs';
import { InputError } from '../../core/errors.js';
import { LEARNER_MODES, SLICE_MODELS, type Policy } from '../../core/policy.js';
import type { InvocationRecord } from '../../core/records.js';
import { safeText } from '../../core/terminal.js';
import { msToNs, NS_PER_MS } from '../../core/time.js';
import type { FunctionStats } from '../../learner/index.js';
import { resolveParams, type AlpsParams } from '../../learner/params.js';
import { readInvocationRecords, RECORD_FORMATS } from '../../workload/invocation-io/index.js';
import { intFlag, numFlag } from '../flags.js';
import type { CliCommand } from '../program.js';

interface LearnArgs {
  trace: string;
  format: string;
  model?: string;
  alpha?: number;
  beta?: number;
  gamma?: number;
  theta?: number;
  'window-ms'?: number;
  cpus?: number;
  'io-aware'?: boolean;
  mode?: string;
  utilisation?: number;
  'now-ms'?: number;
  'quantum-ms'?: number;
  'max-slice-ms'?: number;
  'max-records'?: number;
  'rank-by'?: string;
  'rank-class-ratio'?: number;
  stacking?: string;
  'monotone-cap'?: string;
  seed?: number;
  json: boolean;
}

/** Worked example, in the usage text so it is printed unwrapped and can be pasted as is. */
const WORKED = [
  `echo '{"funcId":2,"arrivalNs":0,"endNs":12e6,"cpuNs":12e6}' > /tmp/alps-trace.jsonl`,
  `echo '{"funcId":6,"arrivalNs":1e6,"endNs":60e6,"cpuNs":45e6}' >> /tmp/alps-trace.jsonl`,
  `echo '{"funcId":2,"arrivalNs":5e6,"endNs":24e6,"cpuNs":12e6}' >> /tmp/alps-trace.jsonl`,
  'ghost-alps learn --trace /tmp/alps-trace.jsonl --utilisation 90',
].join('\n');

const EXAMPLES: [string, string][] = [
  ['ghost-alps learn --trace - --json < /tmp/alps-trace.jsonl', 'read stdin; print the Policy as JSON'],
  ['ghost-alps learn --trace run.jsonl --model forest --cpus 8', 'random-forest slices, 8-CPU replay'],
  ['ghost-alps learn --trace run.csv --mode artifact --alpha 2', 'the published artifact’s algorithm'],
];

/** CLI flag of each learner parameter, so errors name what the user typed. */
const FLAG_OF: Record<string, string> = {
  alpha: '--alpha',
  beta: '--beta',
  gamma: '--gamma',
  theta: '--theta',
  windowNs: '--window-ms',
  cpus: '--cpus',
  model: '--model',
  mode: '--mode',
  quantumNs: '--quantum-ms',
  maxSliceNs: '--max-slice-ms',
  maxRecords: '--max-records',
  rankBy: '--rank-by',
  rankClassRatio: '--rank-class-ratio',
  stacking: '--stacking',
  monotoneCap: '--monotone-cap',
  seed: '--seed',
};

/** Learner parameters from the flags that were given (others keep the mode's defaults). */
export function paramsFromArgs(a: Partial<LearnArgs>): AlpsParams {
  const patch: Record<string, unknown> = {};
  const set = (key: string, v: unknown): void => {
    if (v !== undefined) patch[key] = v;
  };
  set('alpha', a.alpha);
  set('beta', a.beta);
  set('gamma', a.gamma);
  set('theta', a.theta);
  set('windowNs', a['window-ms'] === undefined ? undefined : msToNs(a['window-ms']));
  set('cpus', a.cpus);
  set('model', a.model);
  set('mode', a.mode);
  set('ioAware', a['io-aware']);
  set('quantumNs', a['quantum-ms'] === undefined ? undefined : msToNs(a['quantum-ms']));
  set('maxSliceNs', a['max-slice-ms'] === undefined ? undefined : msToNs(a['max-slice-ms']));
  set('maxRecords', a['max-records']);
  set('rankBy', a['rank-by']);
  set('rankClassRatio', a['rank-class-ratio']);
  set('stacking', a.stacking);
  set('monotoneCap', a['monotone-cap']);
  set('seed', a.seed);
  try {
    return resolveParams(patch as Partial<AlpsParams>);
  } catch (err) {
    const key = err instanceof InputError ? /^learner parameter (\w+)$/.exec(err.input)?.[1] : undefined;
    if (err instanceof InputError && key && FLAG_OF[key]) {
      // The learner speaks ns; the flag was ms: restate the bound and the value as typed.
      const givenMs = ({ windowNs: a['window-ms'], quantumNs: a['quantum-ms'], maxSliceNs: a['max-slice-ms'] } as Record<string, number | undefined>)[key];
      const bound = /^must be (>|≥|≤|<) (-?[\d.e+]+)/.exec(err.problem);
      const msg = key.endsWith('Ns') ? `${bound ? `must be ${bound[1]} ${Number(bound[2]) / NS_PER_MS} ms` : 'is out of range'}, got ${givenMs}` : err.problem;
      throw new InputError(FLAG_OF[key]!, msg);
    }
    throw err;
  }
}

/**
 * Utilisation estimate when none is given: CPU time of the window's records over the CPU capacity
 * of the span they cover (W, or less when the trace is shorter), capped at 100.
 */
export function estimateUtilisation(window: readonly InvocationRecord[], p: AlpsParams, nowNs: number): number {
  let cpu = 0;
  let first = Infinity;
  for (const r of window) {
    cpu += r.cpuNs;
    if (r.arrivalNs < first) first = r.arrivalNs;
  }
  const span = Math.min(p.windowNs, nowNs - first);
  if (!(span > 0)) return 0;
  return Math.min(100, (100 * cpu) / (span * p.cpus));
}

const f1 = (ns: number): string => (ns / NS_PER_MS).toFixed(1);

/** The readable table `learn` prints. */
export function formatPolicyTable(policy: Policy, stats: readonly FunctionStats[], header: string[], notes: ReadonlyMap<number, string> = new Map()): string {
  const byId = new Map(stats.map((s) => [s.funcId, s]));
  const rows: string[][] = [['funcId', 'name', 'rank', 'slice ms', 'invocations', 'cpu ms', 'wait ms', 'basic ms', 'stdev ms']];
  const sorted = [...policy.entries].sort((a, b) => a.rank - b.rank || a.funcId - b.funcId);
  for (const e of sorted) {
    const s = byId.get(e.funcId);
    rows.push([
      String(e.funcId),
      safeText(s?.name ?? ''),
      String(e.rank),
      e.sliceNs === 0 ? '0 (default)' : f1(e.sliceNs),
      s ? String(s.invocations) : (notes.get(e.funcId) ?? 'carried'),
      s ? f1(s.meanCpuNs) : '-',
      s ? f1(s.meanWaitNs) : '-',
      s ? f1(s.basicNs) : '-',
      s ? f1(s.stdevNs) : '-',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const body = rows.map((r) => r.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  return [...header, '', ...body].join('\n');
}

/** A window in which no invocation completed: nothing to learn from (exit 1, with the fix). */
export class NothingToLearnError extends Error {
  override readonly name = 'NothingToLearnError';
}

/** Flag checks, before reading the trace (also the fuzz suite's entry point). */
export function checkLearnArgs(argv: LearnArgs): AlpsParams {
  const params = paramsFromArgs(argv);
  if (argv['now-ms'] !== undefined) numFlag('--now-ms', argv['now-ms'], 0, Number.MAX_SAFE_INTEGER / NS_PER_MS, true);
  if (argv.utilisation !== undefined) numFlag('--utilisation', argv.utilisation, 0, 100, true);
  // The learner's buffer holds up to twice this many records while streaming: bounded memory.
  if (argv['max-records'] !== undefined) intFlag('--max-records', argv['max-records'], 1, 1_000_000);
  return params;
}

export const learnCommand: CliCommand<LearnArgs> = {
  command: 'learn',
  describe: 'learn an ALPS policy (rank + time slice per function) from an invocation trace',
  builder: (y: Argv) =>
    y
      .usage(
        'ghost-alps learn --trace FILE [options]\n\nReads InvocationRecords (JSON Lines, or CSV with a header) with fields funcId, arrivalNs,\n' +
          'endNs, cpuNs (ns) and optionally id, name, firstWaitNs, waitNs, blockedNs, voluntarySwitches,\n' +
          'involuntarySwitches, slicesNs; takes the window of W ending at the last completion, replays it under SRPT and prints the learned policy.\n\n' +
          `Worked example (paste into a shell):\n${WORKED}`,
      )
      .example(EXAMPLES)
      .option('trace', { type: 'string', demandOption: true, describe: 'invocation records file (at most 1 MiB per line), or - for stdin' })
      .option('format', { type: 'string', default: 'auto', choices: RECORD_FORMATS as unknown as string[], describe: 'file format (auto: by extension, else by the first line)' })
      .option('model', { type: 'string', choices: SLICE_MODELS as unknown as string[], describe: 'time-slice model (Eq. 1) [default: avg]' })
      .option('alpha', { type: 'number', describe: 'Eq. 2 reward α [paper 2, artifact 1]' })
      .option('beta', { type: 'number', describe: 'Eq. 2 variance penalty β [1]' })
      .option('gamma', { type: 'number', describe: 'Eq. 3 reaction γ [1]' })
      .option('theta', { type: 'number', describe: 'Eq. 3 utilisation threshold θ, percent [50]' })
      .option('window-ms', { type: 'number', describe: 'sliding window W in ms [5000]' })
      .option('cpus', { type: 'number', describe: 'CPUs of the SRPT replay [paper 1; artifact: sample divisor 24]' })
      .option('io-aware', { type: 'boolean', describe: 'rank by wait + blocked time and cut slices at voluntary switches (I/O study §9)' })
      .option('mode', { type: 'string', choices: LEARNER_MODES as unknown as string[], describe: 'paper (default) or the published artifact' })
      .option('utilisation', { type: 'number', describe: 'CPU utilisation l in percent for Eq. 3 [estimated: window CPU time / (span·cpus), span ≤ W]' })
      .option('now-ms', { type: 'number', describe: 'end of the window in ms of the trace clock [the last endNs]' })
      .option('quantum-ms', { type: 'number', describe: 'SRPT replay minimum quantum in ms [8]' })
      .option('max-slice-ms', { type: 'number', describe: 'slice cap in ms [200]' })
      .option('max-records', { type: 'number', describe: 'most records in the window [paper 5000, artifact 100]' })
      .option('rank-by', { type: 'string', choices: ['turnaround', 'wait', 'first-wait', 'slice'], describe: 'rank statistic [paper: turnaround = replayed wait + CPU; artifact: slice]' })
      .option('rank-class-ratio', { type: 'number', describe: 'functions whose rank keys are within this factor share a rank (fair among themselves) [paper 2; 1 = one rank per distinct key]' })
      .option('stacking', { type: 'string', choices: ['clip', 'min-basic', 'raw'], describe: 'how Eq. 3 meets Eq. 2 [paper mode: clip]' })
      .option('monotone-cap', { type: 'string', choices: ['off', 'pre-penalty', 'compounding'], describe: 'slice cap along the rank order [paper: off]' })
      .option('seed', { type: 'number', describe: 'seed of the forest and the artifact sample [42]' })
      .option('json', { type: 'boolean', default: false, describe: 'print the Policy as JSON' }),
  check: (argv) => {
    checkLearnArgs(argv);
  },
  handler: async (argv) => {
    const params = checkLearnArgs(argv);
    const { AlpsLearner } = await import('../../learner/learner.js');
    const learner = new AlpsLearner(params);
    // With --now-ms, keep only what that window can use while streaming: the learner's buffer
    // holds the newest records it has seen, so records after the window (or, in paper mode,
    // completed before it) would push the window's own records out of it.
    const nowGiven = argv['now-ms'] !== undefined ? msToNs(argv['now-ms']) : undefined;
    const from = nowGiven !== undefined && params.mode === 'paper' ? nowGiven - params.windowNs : -Infinity;
    let maxEnd = 0;
    let total = 0;
    let batch: InvocationRecord[] = [];
    for await (const r of readInvocationRecords(argv.trace, { format: argv.format as 'auto' })) {
      total++;
      if (r.endNs > maxEnd) maxEnd = r.endNs;
      if (nowGiven !== undefined && (r.endNs > nowGiven || r.endNs <= from)) continue;
      batch.push(r);
      if (batch.length >= 4096) {
        learner.observe(batch);
        batch = [];
      }
    }
    learner.observe(batch);
    if (total === 0) throw new InputError(argv.trace === '-' ? 'stdin' : argv.trace, 'no invocation records');
    const now = argv['now-ms'] !== undefined ? msToNs(argv['now-ms']) : maxEnd;
    const window = learner.windowRecords(now);
    if (window.length === 0) {
      const w = params.windowNs / NS_PER_MS;
      throw new NothingToLearnError(
        `nothing to learn: no invocation of ${safeText(argv.trace === '-' ? 'stdin' : argv.trace)} completed in the window (${f1(Math.max(0, now - params.windowNs))}, ${f1(now)}] ms ` +
          `(W = ${w} ms; the trace's completions end at ${f1(maxEnd)} ms). Widen it with --window-ms${argv['now-ms'] !== undefined ? ' or move it with --now-ms' : ''}`,
      );
    }
    const estimated = argv.utilisation === undefined;
    const util = estimated ? estimateUtilisation(window, params, now) : argv.utilisation!;
    if (!(Number.isFinite(util) && util >= 0 && util <= 100)) throw new InputError('--utilisation', `must be a percentage in [0, 100], got ${util}`);
    const policy = learner.learn(now, util);
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
      return;
    }
    const round = learner.lastRoundStats!;
    const p = learner.params;
    const notes = new Map<number, string>();
    if (p.mode === 'artifact') notes.set(1, 'reserved');
    const replayDesc = p.mode === 'artifact' ? `1/${p.cpus} sample on a 1-CPU 1 ms-tick replay` : `replay on ${p.cpus} CPU(s)`;
    process.stdout.write(
      `${formatPolicyTable(policy, round.functions, [
        `ALPS policy, generation ${policy.generation}: mode ${p.mode}, model ${p.model}, α=${p.alpha} β=${p.beta} γ=${p.gamma} θ=${p.theta}, ` +
          `W=${p.windowNs / NS_PER_MS} ms, ${replayDesc}, quantum ${p.quantumNs / NS_PER_MS} ms${p.ioAware ? ', I/O-aware' : ''}`,
        `window: ${round.recordsUsed} of ${total} records, ending at ${f1(now)} ms; utilisation ${util.toFixed(1)}%${estimated ? ' (estimated)' : ''} → overload factor p = ${round.penalty.toFixed(3)}`,
        'rank 1 runs first; slice 0 = the kernel’s default slice; wait = mean wait in the replay',
      ], notes)}\n`,
    );
  },
};
