import { join } from 'node:path';
import type { AbVariant } from '../ab.js';
import { writeFileSync } from 'node:fs';
import { writeComparison } from '../output.js';
import { loadsCdfSpec, renderSvg } from '../charts.js';
import type { Compared, ReproContext, Setup } from './context.js';
import { setupName } from './context.js';
import { missing, run, runsTable, shareFaster, shorterHalfMeanMs, tailCrossing, turnaroundsMs } from './helpers.js';
import { change, mdTable, ms, pct, type ResultRow, type Section } from './section.js';
import { percentileSorted } from '../stats.js';
import { fmtMs } from '../table.js';
import { predictedSrpt } from '../../sim/predicted-srpt.js';

/** Sizes of a reproduction. The paper's are 56 CPUs and 15,000 invocations. */
export interface ReproScale {
  invocations: number;
  /** The evaluation host (§7.1). */
  paperCpus: number;
  /** The motivation host (§3). */
  motivationCpus: number;
  /** Where per-CPU effects are small and scheduling order shows (see the calibration section). */
  smallCpus: number;
  /** The I/O study's host. */
  ioCpus: number;
}

export const FULL_SCALE: ReproScale = { invocations: 15000, paperCpus: 56, motivationCpus: 24, smallCpus: 8, ioCpus: 16 };

export interface ExpEnv {
  ctx: ReproContext;
  scale: ReproScale;
  /** Output directory; charts go to `<out>/charts`. */
  out: string;
}

export type Experiment = (env: ExpEnv) => Promise<Section>;

async function charts(env: ExpEnv, c: Compared, name: string): Promise<string[]> {
  const files = await writeComparison(join(env.out, 'charts'), c.result, `${name}-`);
  return files.filter((f) => f.endsWith('.svg')).map((f) => `charts/${f.split('/').pop()}`);
}

const num = (x: number | undefined, f: (v: number) => string): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : f(x));

/**
 * Claims of a substantial difference ("34–57% lower", "−28.9%") count as reproduced only when
 * ours goes the same way by at least this much (%); "slightly better" claims need direction only.
 */
export const MARGIN_PCT = 5;
/** `a` is lower than `b` by at least `pctMin` percent. */
const lowerBy = (a: number, b: number, pctMin = MARGIN_PCT): boolean => change(a, b) <= -pctMin;

// ───────────────────────────── calibration ─────────────────────────────

export const calibration: Experiment = async (env) => {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const mix of ['huawei', 'azure'] as const) {
    for (const cpus of [2, env.scale.smallCpus, env.scale.motivationCpus, env.scale.paperCpus]) {
      const c = env.ctx.compare({ workload: mix, cpus, load: 0.9, invocations: env.scale.invocations }, ['cfs', 'srpt']);
      const cfs = run(c, 'cfs');
      const srpt = run(c, 'srpt');
      rows.push([mix, String(cpus), num(cfs?.meanMs, fmtMs), num(srpt?.meanMs, fmtMs), cfs && srpt ? pct(change(cfs.meanMs, srpt.meanMs)) : 'n/a']);
    }
  }
  notes.push(
    'With C CPUs sharing one arrival stream, a long job blocks one CPU in C; at 56 CPUs almost every short job finds a ' +
      'free CPU, so no ordering policy has much to win and every scheduler sits close to SRPT. The gap between CFS and ' +
      'SRPT (the room ALPS can win) therefore shrinks with C: this is why the paper-scale (56-CPU) rows below show small ' +
      'differences and why the sensitivity studies run at the small scale.',
  );
  return {
    id: 'calibration',
    title: 'Calibration: how much room ordering has, by CPU count',
    paperSetup: 'Not a paper experiment: the issue’s queueing check (Poisson arrivals, Table 1 mixes, 90% load).',
    ourSetup: `Table 1 mixes, 90% load, ${env.scale.invocations} invocations, exponential arrivals; CFS and the SRPT oracle.`,
    rows: [],
    tables: [mdTable(['mix', 'CPUs', 'CFS mean', 'SRPT mean', 'CFS above SRPT'], rows)],
    notes,
    charts: [],
  };
};

// ───────────────────────────── §3: Fig. 1 (M1, M2) ─────────────────────────────

export const motivation: Experiment = async (env) => {
  const s: Setup = { workload: 'huawei', cpus: env.scale.motivationCpus, load: 0.9, invocations: env.scale.invocations };
  const c = env.ctx.compare(s, ['fifo', 'rr', 'cfs', 'sfs', 'srpt']);
  const cfs = run(c, 'cfs');
  const sfs = run(c, 'sfs');
  const srpt = run(c, 'srpt');
  const fifo = run(c, 'fifo');
  const rr = run(c, 'rr');
  const cross = tailCrossing(turnaroundsMs(c, 'srpt'), turnaroundsMs(c, 'cfs'));
  const az = env.ctx.compare({ ...s, workload: 'azure' }, ['fifo', 'rr', 'cfs', 'sfs', 'srpt']);
  const crossAz = tailCrossing(turnaroundsMs(az, 'srpt'), turnaroundsMs(az, 'cfs'));
  const rows: ResultRow[] = [
    {
      quantity: 'M1: requests slower under CFS than under SRPT (Huawei, 90%)',
      paper: '89.2%',
      ours: num(cfs?.slowerThanSrptPct ?? undefined, (x) => `${x.toFixed(1)}%`),
      agrees: cfs?.slowerThanSrptPct != null ? cfs.slowerThanSrptPct > 50 : null,
      note: 'agrees = a majority of requests is slower under CFS',
    },
    {
      quantity: 'M2: percentile from which SRPT is slower than CFS (Huawei)',
      paper: '98.9th',
      ours: cross === null ? 'no crossing up to p99.9' : `${cross.toFixed(1)}th`,
      agrees: cross === null ? false : cross >= 95,
      note: `Azure: ${crossAz === null ? 'no crossing' : `${crossAz.toFixed(1)}th`}; agrees = the crossing is in the tail (≥ p95)`,
    },
    {
      quantity: 'FIFO and RR well behind SRPT; CFS shortens the gap (mean)',
      paper: 'FIFO, RR > CFS > SRPT',
      ours: `FIFO ${num(fifo?.meanMs, ms)}, RR ${num(rr?.meanMs, ms)}, CFS ${num(cfs?.meanMs, ms)}, SRPT ${num(srpt?.meanMs, ms)}`,
      agrees: fifo && rr && cfs && srpt ? fifo.meanMs > cfs.meanMs && rr.meanMs > cfs.meanMs && cfs.meanMs > srpt.meanMs : null,
    },
    {
      quantity: 'SFS sits between SRPT and CFS (mean)',
      paper: 'SRPT < SFS < CFS',
      ours: `SFS ${num(sfs?.meanMs, ms)}`,
      agrees: sfs && cfs && srpt ? srpt.meanMs < sfs.meanMs && sfs.meanMs < cfs.meanMs : null,
    },
  ];
  return {
    id: 'fig1',
    title: 'Fig. 1 — motivation: Linux schedulers, SFS and SRPT (M1, M2)',
    paperSetup: 'OpenLambda on 24 cores, Huawei and Azure samples, ~90% CPU utilisation; FIFO, RR, CFS, SFS, offline SRPT.',
    ourSetup: `${setupName(s)} (and the same on Azure).`,
    rows,
    tables: [`Huawei:\n\n${runsTable(c)}`, `Azure:\n\n${runsTable(az)}`],
    notes: [],
    charts: [...(await charts(env, c, 'fig1-huawei')), ...(await charts(env, az, 'fig1-azure'))],
  };
};

// ───────────────────────────── §3.3: Fig. 2 (M3) ─────────────────────────────

/** SRPT fed with imperfect predictions (src/sim/predicted-srpt.ts). */
const PREDICTED: AbVariant[] = [
  { scheduler: 'srpt', label: 'srpt-eb', simulate: predictedSrpt('error-bounded', 0.5) },
  { scheduler: 'srpt', label: 'srpt-random-40', simulate: predictedSrpt('random-40') },
  { scheduler: 'srpt', label: 'random', simulate: predictedSrpt('random') },
];

export const fig2: Experiment = async (env) => {
  const rows: ResultRow[] = [];
  const tables: string[] = [];
  const chartFiles: string[] = [];
  for (const cpus of [env.scale.motivationCpus, env.scale.smallCpus]) {
    const s: Setup = { workload: 'huawei', cpus, load: 0.9, invocations: env.scale.invocations };
    const c = env.ctx.compare(s, ['sfs', 'srpt', ...PREDICTED]);
    const g1Median = (label: string): number => {
      const t = turnaroundsMs(c, label, '1');
      return t.length ? percentileSorted(t, 50) : NaN;
    };
    const sfs = g1Median('sfs');
    for (const label of ['srpt-eb', 'srpt-random-40']) {
      const v = g1Median(label);
      rows.push({
        quantity: `M3 (${cpus} CPUs): ${label} vs SFS, median turnaround of short (G1) functions`,
        paper: '−51.2%',
        ours: run(c, label) ? `${pct(change(v, sfs))} (${ms(v)} vs ${ms(sfs)})` : missing(c, label),
        agrees: run(c, label) ? lowerBy(v, sfs, 10) : null,
        note: 'agrees = at least 10% lower',
      });
    }
    const mean = (l: string): number | undefined => run(c, l)?.meanMs;
    rows.push({
      quantity: `(${cpus} CPUs) mean: SRPT-EB close to SRPT; RANDOM far from it`,
      paper: 'EB ≈ SRPT; RANDOM worse',
      ours: `SRPT ${num(mean('srpt'), ms)}, EB ${num(mean('srpt-eb'), ms)}, RANDOM-40% ${num(mean('srpt-random-40'), ms)}, RANDOM ${num(mean('random'), ms)}`,
      agrees: mean('srpt-eb') !== undefined && mean('random') !== undefined ? mean('random')! > mean('srpt-eb')! : null,
    });
    tables.push(`${cpus} CPUs:\n\n${runsTable(c, 'sfs')}`);
    chartFiles.push(...(await charts(env, c, `fig2-${cpus}cpu`)));
  }
  return {
    id: 'fig2',
    title: 'Fig. 2 — SRPT with imperfect predictions (M3)',
    paperSetup: 'Huawei trace, 24 cores: SRPT-EB (±50% error), SRPT-RANDOM-40% (40% of requests get a random prediction), RANDOM.',
    ourSetup:
      'Huawei mix, 90% load, at 24 and 8 CPUs. Predicted SRPT is a zero-cost global preemptive scheduler on the simulated machine ' +
      '(the delegated seam with an SRPT-on-predictions agent); a random prediction is uniform over the workload’s [min, max] demand.',
    rows,
    tables,
    notes: [],
    charts: chartFiles,
  };
};

// ───────────────────────────── §7.2: Fig. 5/6/7 (E1–E4) ─────────────────────────────

const END_TO_END = ['cfs', 'eevdf', 'sfs', 'srpt', 'alps'];
const LOADS = [0.7, 0.8, 0.9];

function endToEndAt(env: ExpEnv, cpus: number): { mix: 'huawei' | 'azure'; load: number; c: Compared }[] {
  const out: { mix: 'huawei' | 'azure'; load: number; c: Compared }[] = [];
  for (const mix of ['huawei', 'azure'] as const) {
    for (const load of LOADS) out.push({ mix, load, c: env.ctx.compare({ workload: mix, cpus, load, invocations: env.scale.invocations }, END_TO_END) });
  }
  return out;
}

function endToEndRows(all: ReturnType<typeof endToEndAt>, scaleName: string): ResultRow[] {
  const vsCfs: number[] = [];
  const vsSfs: number[] = [];
  for (const { c } of all) {
    const a = run(c, 'alps');
    const cfs = run(c, 'cfs');
    const sfs = run(c, 'sfs');
    if (a && cfs) vsCfs.push(change(a.meanMs, cfs.meanMs));
    if (a && sfs) vsSfs.push(change(a.meanMs, sfs.meanMs));
  }
  const range = (xs: number[]): string => (xs.length ? `${pct(Math.min(...xs))} … ${pct(Math.max(...xs))}` : 'n/a (ALPS not run)');
  const find = (mix: string, load: number): Compared => all.find((x) => x.mix === mix && x.load === load)!.c;
  const h70 = find('huawei', 0.7);
  const a90 = find('azure', 0.9);
  const h90 = find('huawei', 0.9);
  const p99g1 = (label: string): number | undefined => run(h70, label)?.groups['1']?.p99Ms;
  const med = (c: Compared, label: string, g: string): number => {
    const t = turnaroundsMs(c, label, g);
    return t.length ? percentileSorted(t, 50) : NaN;
  };
  const w1s = (label: string): number | undefined => run(a90, label)?.groups['4']?.within1sPct;
  const alpsHere = run(h90, 'alps') !== undefined;
  const g3p99 = (label: string): number | undefined => run(h90, label)?.groups['3']?.p99Ms;
  return [
    {
      quantity: `E1 (${scaleName}): ALPS mean vs CFS, over 2 mixes × 3 loads`,
      paper: '−34.1% … −57.2%',
      ours: range(vsCfs),
      agrees: vsCfs.length ? Math.max(...vsCfs) <= -MARGIN_PCT : null,
      note: `agrees = ALPS at least ${MARGIN_PCT}% lower than CFS in every configuration`,
    },
    {
      quantity: `E1 (${scaleName}): ALPS mean vs SFS`,
      paper: '−20.6% … −27.3%',
      ours: range(vsSfs),
      agrees: vsSfs.length ? Math.max(...vsSfs) <= -MARGIN_PCT : null,
      note: `agrees = at least ${MARGIN_PCT}% lower in every configuration`,
    },
    {
      quantity: `E2 (${scaleName}): Huawei 70%, G1 p99 — ALPS; vs SFS; vs CFS`,
      paper: '198 ms; −10.8%; −15.1%',
      ours: alpsHere
        ? `${num(p99g1('alps'), ms)}; ${pct(change(p99g1('alps')!, p99g1('sfs')!))}; ${pct(change(p99g1('alps')!, p99g1('cfs')!))}`
        : missing(h70, 'alps'),
      agrees: alpsHere ? p99g1('alps')! < p99g1('sfs')! && p99g1('alps')! < p99g1('cfs')! : null,
    },
    {
      quantity: `E3 (${scaleName}): Azure 90%, SFS median / ALPS median — G1; G4`,
      paper: '1.1×; 1.5×',
      ours: alpsHere ? `${(med(a90, 'sfs', '1') / med(a90, 'alps', '1')).toFixed(2)}×; ${(med(a90, 'sfs', '4') / med(a90, 'alps', '4')).toFixed(2)}×` : missing(a90, 'alps'),
      agrees: alpsHere ? med(a90, 'sfs', '1') >= med(a90, 'alps', '1') && med(a90, 'sfs', '4') > med(a90, 'alps', '4') : null,
    },
    {
      quantity: `E3 (${scaleName}): Azure 90%, G4 finishing within 1 s — ALPS / SFS / CFS`,
      paper: '70.1% / 50.9% / 5%',
      ours: `${num(w1s('alps'), (x) => `${x.toFixed(1)}%`)} / ${num(w1s('sfs'), (x) => `${x.toFixed(1)}%`)} / ${num(w1s('cfs'), (x) => `${x.toFixed(1)}%`)}`,
      agrees: alpsHere ? w1s('alps')! > w1s('sfs')! && w1s('sfs')! > w1s('cfs')! : null,
    },
    {
      quantity: `E4 (${scaleName}): Huawei 90%, G3 requests faster under ALPS than SRPT; SRPT p99 / ALPS p99 (G3)`,
      paper: '73.3%; 1.5×',
      ours: alpsHere ? `${shareFaster(h90, 'alps', 'srpt', '3').toFixed(1)}%; ${(g3p99('srpt')! / g3p99('alps')!).toFixed(2)}×` : missing(h90, 'alps'),
      agrees: alpsHere ? shareFaster(h90, 'alps', 'srpt', '3') > 50 && g3p99('srpt')! > g3p99('alps')! : null,
    },
  ];
}

export const endToEnd: Experiment = async (env) => {
  const paper = endToEndAt(env, env.scale.paperCpus);
  const small = endToEndAt(env, env.scale.smallCpus);
  const tables: string[] = [];
  const chartFiles: string[] = [];
  for (const [name, set] of [[`${env.scale.paperCpus} CPUs`, paper], [`${env.scale.smallCpus} CPUs`, small]] as const) {
    for (const { mix, load, c } of set) {
      tables.push(`${mix}, ${Math.round(load * 100)}% load, ${name}:\n\n${runsTable(c)}`);
      if (load === 0.9 || (mix === 'huawei' && load === 0.7)) chartFiles.push(...(await charts(env, c, `fig5-${mix}-${c.setup.cpus}cpu-${Math.round(load * 100)}`)));
    }
    // Fig. 5 itself: all three loads in one figure per mix.
    for (const mix of ['huawei', 'azure'] as const) {
      const byLoad: Record<string, Compared['result']> = {};
      for (const x of set.filter((y) => y.mix === mix)) byLoad[`${Math.round(x.load * 100)}%`] = x.c.result;
      const file = `charts/fig5-${mix}-${name.replace(' CPUs', 'cpu')}-loads.svg`;
      writeFileSync(join(env.out, file), await renderSvg(loadsCdfSpec(`${mix}, ${name}: turnaround CDF by group at 70/80/90% load`, byLoad)));
      chartFiles.push(file);
    }
  }
  return {
    id: 'fig5-6',
    title: 'Fig. 5/6 — end to end: 2 workloads × 3 loads (E1–E4)',
    paperSetup: '56-CPU host, OpenLambda, 15,000 invocations per workload, Poisson arrivals scaled to 70/80/90% CPU; CFS, SFS, SRPT, ALPS.',
    ourSetup:
      `Table 1 mixes over 50 deployments, ${env.scale.invocations} invocations, exponential arrivals, loads 70/80/90%, at the paper's ` +
      `${env.scale.paperCpus} CPUs and at ${env.scale.smallCpus} CPUs; EEVDF added (the default of Linux ≥ 6.6).`,
    rows: [...endToEndRows(paper, `${env.scale.paperCpus} CPUs`), ...endToEndRows(small, `${env.scale.smallCpus} CPUs`)],
    tables,
    notes: [
      'Charts: `*-cdf.svg` is Fig. 5 (CDF per group), `*-percentiles.svg` Fig. 6, `*-context-switches.svg` Fig. 7.',
    ],
    charts: chartFiles,
  };
};

export const contextSwitches: Experiment = async (env) => {
  const rows: ResultRow[] = [];
  const table: string[][] = [];
  for (const cpus of [env.scale.paperCpus, env.scale.smallCpus]) {
    for (const mix of ['huawei', 'azure'] as const) {
      const c = env.ctx.compare({ workload: mix, cpus, load: 0.9, invocations: env.scale.invocations }, END_TO_END);
      const per = (l: string): number | undefined => run(c, l)?.switchesPerInvocation;
      table.push([`${mix}, ${cpus} CPUs`, ...END_TO_END.map((l) => num(per(l), (x) => x.toFixed(2)))]);
      const a = per('alps');
      rows.push({
        quantity: `ALPS switches per invocation vs CFS, SFS (${mix}, ${cpus} CPUs, 90%)`,
        paper: 'fewer than both',
        ours: a === undefined ? missing(c, 'alps') : `${a.toFixed(2)} vs ${per('cfs')!.toFixed(2)}, ${per('sfs')!.toFixed(2)}`,
        agrees: a === undefined ? null : a < per('cfs')! && a < per('sfs')!,
      });
    }
  }
  return {
    id: 'fig7',
    title: 'Fig. 7 — context switches',
    paperSetup: 'Context switches of the schedulers in the end-to-end runs.',
    ourSetup: 'The 90%-load end-to-end runs (both scales); a switch is counted each time a CPU changes task.',
    rows,
    tables: [mdTable(['run', ...END_TO_END.map((l) => `${l} /inv`)], table)],
    notes: [],
    charts: [],
  };
};

// ───────────────────────────── §7.4–7.5: Fig. 9–14 ─────────────────────────────

const alps = (label: string, learner: NonNullable<AbVariant['options']>['learner']): AbVariant => ({ scheduler: 'alps', label, options: { learner: learner! } });

function sensitivitySetup(env: ExpEnv): Setup {
  return { workload: 'huawei', cpus: env.scale.smallCpus, load: 0.9, invocations: env.scale.invocations };
}

export const ablation: Experiment = async (env) => {
  const s = sensitivitySetup(env);
  // Unpredictability off: α = 1, β = 0 (Eq. 2 returns the trained slice); overload off: θ = 100 (p = 1).
  const configs = [
    alps('(1) both', {}),
    alps('(2) none', { alpha: 1, beta: 0, theta: 100 }),
    alps('(3) unpredictability only', { theta: 100 }),
    alps('(4) overload only', { alpha: 1, beta: 0 }),
  ];
  const c = env.ctx.compare(s, ['cfs', ...configs]);
  const r = (l: string): ReturnType<typeof run> => run(c, l);
  const ok = configs.every((v) => r(v.label!));
  const rows: ResultRow[] = ok
    ? [
        { quantity: 'mean, (1) both vs (2) none', paper: '−28.9%', ours: pct(change(r('(1) both')!.meanMs, r('(2) none')!.meanMs)), agrees: lowerBy(r('(1) both')!.meanMs, r('(2) none')!.meanMs), note: `agrees = at least ${MARGIN_PCT}% lower` },
        { quantity: 'p99, (1) both vs (3) unpredictability only', paper: '−51.6%', ours: pct(change(r('(1) both')!.p99Ms, r('(3) unpredictability only')!.p99Ms)), agrees: lowerBy(r('(1) both')!.p99Ms, r('(3) unpredictability only')!.p99Ms) },
        { quantity: 'p99, (1) both vs (4) overload only', paper: '−43.3%', ours: pct(change(r('(1) both')!.p99Ms, r('(4) overload only')!.p99Ms)), agrees: lowerBy(r('(1) both')!.p99Ms, r('(4) overload only')!.p99Ms) },
      ]
    : [{ quantity: 'ablation', paper: 'see Fig. 9', ours: missing(c, '(1) both'), agrees: null }];
  return {
    id: 'fig9',
    title: 'Fig. 9 — ablation of the fine-tuning heuristics (A1)',
    paperSetup: 'ALPS with both fine-tunings, none, unpredictability only, overload only.',
    ourSetup: `${setupName(s)}. Unpredictability off = α 1, β 0; overload off = θ 100 (p = 1 at any utilisation).`,
    rows,
    tables: [runsTable(c)],
    notes: [],
    charts: ok ? await charts(env, c, 'fig9') : [],
  };
};

export const sensitivity: Experiment = async (env) => {
  const s = sensitivitySetup(env);
  const sweep = (variants: AbVariant[]): Compared => env.ctx.compare(s, ['cfs', 'srpt', ...variants]);
  const models = sweep(['avg', 'linreg', 'forest', 'ewma'].map((m) => alps(`model ${m}`, { model: m as 'avg' })));
  const windows = sweep([5, 10, 20, 30].map((w) => alps(`W=${w}s`, { windowNs: w * 1e9 })));
  const alphas = sweep([1, 2, 3, 4].map((a) => alps(`α=${a}`, { alpha: a })));
  const betas = sweep([0.5, 1, 2, 4].map((b) => alps(`β=${b}`, { beta: b })));
  const gammas = sweep([0.5, 1, 2, 4].map((g) => alps(`γ=${g}`, { gamma: g })));
  const rows: ResultRow[] = [];
  const m = (c: Compared, l: string): number | undefined => run(c, l)?.meanMs;
  const p99 = (c: Compared, l: string): number | undefined => run(c, l)?.p99Ms;
  const w5 = m(windows, 'W=5s');
  const w30 = m(windows, 'W=30s');
  rows.push({ quantity: 'S1: mean with a 30 s window vs 5 s', paper: '+12.7% (148 ms at 30 s)', ours: w5 && w30 ? `${pct(change(w30, w5))} (${ms(w30)} at 30 s)` : missing(windows, 'W=30s'), agrees: w5 && w30 ? lowerBy(w5, w30) : null, note: `agrees = 30 s at least ${MARGIN_PCT}% worse` });
  const others = ['model avg', 'model linreg', 'model forest'].map((l) => p99(models, l)).filter((x): x is number => x !== undefined);
  const ew = p99(models, 'model ewma');
  rows.push({ quantity: 'S2: EWMA has a higher tail (p99) than avg/LR/RF', paper: 'higher', ours: ew !== undefined && others.length ? `EWMA ${ms(ew)} vs ${others.map(ms).join(', ')}` : missing(models, 'model ewma'), agrees: ew !== undefined && others.length ? ew > Math.max(...others) : null });
  const a = [1, 2, 3, 4].map((x) => m(alphas, `α=${x}`));
  rows.push({ quantity: 'S2: α = 1 slightly worse (mean)', paper: 'α=1 worst, others close', ours: a.every((x) => x !== undefined) ? a.map((x, i) => `α=${i + 1}: ${ms(x!)}`).join(', ') : missing(alphas, 'α=1'), agrees: a.every((x) => x !== undefined) ? a[0]! >= Math.max(...(a.slice(1) as number[])) : null });
  const b = [0.5, 1, 2, 4].map((x) => m(betas, `β=${x}`));
  rows.push({ quantity: 'S2: larger β slightly better (mean)', paper: 'decreasing in β', ours: b.every((x) => x !== undefined) ? b.map((x, i) => `β=${[0.5, 1, 2, 4][i]}: ${ms(x!)}`).join(', ') : missing(betas, 'β=1'), agrees: b.every((x) => x !== undefined) ? b[3]! <= b[0]! : null });
  const g = [0.5, 1, 2, 4].map((x) => m(gammas, `γ=${x}`));
  rows.push({ quantity: 'S2: γ = 1 best (mean)', paper: 'γ=1 best', ours: g.every((x) => x !== undefined) ? g.map((x, i) => `γ=${[0.5, 1, 2, 4][i]}: ${ms(x!)}`).join(', ') : missing(gammas, 'γ=1'), agrees: g.every((x) => x !== undefined) ? g[1]! <= Math.min(...(g as number[])) : null });
  return {
    id: 'fig10-14',
    title: 'Fig. 10–14 — sensitivity: learning model, window, α, β, γ (S1, S2)',
    paperSetup: 'ALPS with avg/LR/RF/EWMA models; windows 5–30 s; α, β, γ sweeps; θ fixed at 50.',
    ourSetup: `${setupName(s)}; one parameter varied at a time from the defaults (α 2, β 1, γ 1, θ 50, W 5 s, avg). The paper does not list its β/γ values; we use 0.5, 1, 2, 4.`,
    rows,
    tables: [models, windows, alphas, betas, gammas].map((c) => runsTable(c)),
    notes: [],
    charts: [],
  };
};

// ───────────────────────────── §7.6: Fig. 15 (G1) ─────────────────────────────

export const ghost: Experiment = async (env) => {
  const rows: ResultRow[] = [];
  const tables: string[] = [];
  for (const cpus of [env.scale.paperCpus, env.scale.smallCpus]) {
    const s: Setup = { workload: 'azure-fib', cpus, load: 0.9, invocations: env.scale.invocations };
    const c = env.ctx.compare(s, ['cfs', 'alps', 'alps-delegated']);
    const ok = run(c, 'alps') && run(c, 'alps-delegated');
    const a = ok ? shorterHalfMeanMs(c, 'alps') : NaN;
    const d = ok ? shorterHalfMeanMs(c, 'alps-delegated') : NaN;
    rows.push({
      quantity: `G1 (${cpus} CPUs): shorter 50% of requests, ghOSt-ALPS vs in-kernel ALPS (mean)`,
      paper: '+25.3% (111.4 ms)',
      ours: ok ? `${pct(change(d, a))} (${ms(d)})` : missing(c, run(c, 'alps') ? 'alps-delegated' : 'alps'),
      agrees: ok ? lowerBy(a, d) : null,
      note: `agrees = delegated at least ${MARGIN_PCT}% slower`,
    });
    const cfs = run(c, 'cfs');
    const dl = run(c, 'alps-delegated');
    rows.push({
      quantity: `ghOSt-ALPS still better than CFS (${cpus} CPUs, mean)`,
      paper: 'yes',
      ours: cfs && dl ? pct(change(dl.meanMs, cfs.meanMs)) : missing(c, 'alps-delegated'),
      agrees: cfs && dl ? dl.meanMs < cfs.meanMs : null,
    });
    tables.push(`${cpus} CPUs:\n\n${runsTable(c)}`);
  }
  return {
    id: 'fig15',
    title: 'Fig. 15 — delegated (ghOSt) ALPS vs in-kernel ALPS (G1)',
    paperSetup: 'Azure sample, Fibonacci app only, 90% load; vanilla ALPS vs ALPS on ghOSt (and CFS).',
    ourSetup:
      'Azure Table 1 mix over the 9 fib deployments, 90% load; delegated costs as the paper quotes from ghOSt: 725 ns message ' +
      'delivery + 888 ns local transaction per decision (plus the simulator’s 1 µs IPI to land a remote commit).',
    rows,
    tables,
    notes: ['"Shorter 50%" = mean of the lower half of each scheduler’s own turnaround distribution.'],
    charts: [],
  };
};

// ───────────────────────────── I/O study, Table 1 ─────────────────────────────

const IO_PAPER: Record<string, [string, string]> = { '1': ['−25%', '−29%'], '2': ['−28%', '−30%'], '3': ['+15%', '+14%'], '4': ['+13%', '+13%'] };

export function ioRows(c: Compared, label: string): { rows: ResultRow[]; table: string[][] } {
  const cfs = run(c, 'cfs');
  const r = run(c, label);
  const rows: ResultRow[] = [];
  const table: string[][] = [];
  for (const k of ['1', '2', '3', '4']) {
    const base = cfs?.classes?.[k];
    const mine = r?.classes?.[k];
    const io = k === '1' || k === '2';
    if (!base || !mine) {
      const paper = label === 'alps' ? IO_PAPER[k]!.join(' / ') : io ? 'keep the gain (< 0)' : 'within +3%';
      rows.push({ quantity: `${label} vs CFS, class ${k} (${io ? 'I/O' : 'CPU'})`, paper, ours: missing(c, label), agrees: null });
      continue;
    }
    const dAvg = change(mine.meanMs, base.meanMs);
    const dP99 = change(mine.p99Ms, base.p99Ms);
    table.push([`class ${k} (${io ? 'I/O' : 'CPU'})`, fmtMs(base.meanMs), fmtMs(mine.meanMs), pct(dAvg), fmtMs(base.p99Ms), fmtMs(mine.p99Ms), pct(dP99)]);
    rows.push({
      quantity: `${label} vs CFS, class ${k} (${io ? 'I/O' : 'CPU'}): Δ avg / Δ p99`,
      paper: label === 'alps' ? IO_PAPER[k]!.join(' / ') : io ? 'keep the gain (< 0)' : 'within +3%',
      ours: `${pct(dAvg)} / ${pct(dP99)}`,
      // Plain ALPS: the study's gain/penalty, by at least the margin; io-aware: the issue's thresholds.
      agrees: label === 'alps' ? (io ? dAvg <= -MARGIN_PCT : dAvg >= MARGIN_PCT) : io ? dAvg < 0 : dAvg <= 3,
    });
  }
  return { rows, table };
}

export const ioStudy: Experiment = async (env) => {
  const s: Setup = { workload: 'io-mix', cpus: env.scale.ioCpus, load: 0.9, invocations: env.scale.invocations };
  const c = env.ctx.compare(s, ['cfs', 'alps', { scheduler: 'alps', label: 'alps:io-aware', options: { learner: { ioAware: true } } }]);
  const plain = ioRows(c, 'alps');
  const aware = ioRows(c, 'alps:io-aware');
  const header = ['class', 'CFS avg ms', 'ALPS avg ms', 'Δ avg', 'CFS p99 ms', 'ALPS p99 ms', 'Δ p99'];
  return {
    id: 'io-table1',
    title: 'I/O study Table 1 — ALPS on a mixed I/O + CPU workload',
    paperSetup: 'ghOSt ALPS vs CFS on 16 cores; classes 1–2 I/O-bound (burst, sleep, burst), 3–4 CPU-bound (fib).',
    ourSetup: `${setupName(s)}; the io-mix workload (docs/workloads.md); plain ALPS and ALPS learning from blocking time too (io-aware).`,
    rows: [...plain.rows, ...aware.rows],
    tables: [`plain ALPS:\n\n${mdTable(header, plain.table)}`, `io-aware ALPS:\n\n${mdTable(header, aware.table)}`, runsTable(c)],
    notes: ['The study’s absolute times (class 4 ≈ 800 s under CFS) come from a heavily overloaded host; our classes keep the structure and the class-4/class-3 ratio at simulator-friendly sizes.'],
    charts: await charts(env, c, 'io-mix'),
  };
};

// ──────────────────────────── the simulator's acceptance check ────────────────────────────

/**
 * The simulator's own acceptance thresholds (not paper numbers) for one mix at 8 CPUs, 90% load:
 * ALPS closes at least 60% of the CFS→SRPT mean gap, has a lower mean than SFS, and keeps the
 * longest group's (G4) p99 at most SRPT's and at most 1.25 × CFS's.
 */
export function acceptanceRows(c: Compared, mix: string): ResultRow[] {
  const cfs = run(c, 'cfs');
  const srpt = run(c, 'srpt');
  const sfs = run(c, 'sfs');
  const a = run(c, 'alps');
  if (!cfs || !srpt || !sfs || !a) return [{ quantity: `${mix}: acceptance`, paper: '—', ours: missing(c, a ? 'sfs' : 'alps'), agrees: null }];
  const bound = cfs.meanMs - 0.6 * (cfs.meanMs - srpt.meanMs);
  const closed = (100 * (cfs.meanMs - a.meanMs)) / (cfs.meanMs - srpt.meanMs);
  const g4 = a.groups['4']?.p99Ms ?? NaN;
  const g4s = srpt.groups['4']?.p99Ms ?? NaN;
  const g4c = cfs.groups['4']?.p99Ms ?? NaN;
  return [
    { quantity: `${mix}: ALPS closes ≥ 60% of the CFS→SRPT mean gap`, paper: `mean ≤ ${ms(bound)}`, ours: `${ms(a.meanMs)} (closes ${closed.toFixed(1)}%; CFS ${ms(cfs.meanMs)}, SRPT ${ms(srpt.meanMs)})`, agrees: a.meanMs <= bound },
    { quantity: `${mix}: ALPS mean below SFS`, paper: `< ${ms(sfs.meanMs)}`, ours: ms(a.meanMs), agrees: a.meanMs < sfs.meanMs },
    { quantity: `${mix}: ALPS G4 p99 ≤ SRPT's and ≤ 1.25 × CFS's`, paper: `≤ ${ms(Math.min(g4s, 1.25 * g4c))}`, ours: `${ms(g4)} (SRPT ${ms(g4s)}, CFS ${ms(g4c)})`, agrees: g4 <= g4s && g4 <= 1.25 * g4c },
  ];
}

export const acceptance: Experiment = async (env) => {
  const rows: ResultRow[] = [];
  const tables: string[] = [];
  for (const mix of ['huawei', 'azure'] as const) {
    const c = env.ctx.compare({ workload: mix, cpus: env.scale.smallCpus, load: 0.9, invocations: env.scale.invocations }, END_TO_END);
    rows.push(...acceptanceRows(c, mix));
  }
  const io = env.ctx.compare({ workload: 'io-mix', cpus: env.scale.smallCpus, load: 0.9, invocations: env.scale.invocations }, [
    'cfs',
    'alps',
    { scheduler: 'alps', label: 'alps:io-aware', options: { learner: { ioAware: true } } },
  ]);
  rows.push(...ioRows(io, 'alps:io-aware').rows, ...ioRows(io, 'alps').rows);
  tables.push(`io-mix, ${env.scale.smallCpus} CPUs, 90%:\n\n${runsTable(io)}`);
  return {
    id: 'acceptance',
    title: `Simulator acceptance check: ${env.scale.smallCpus} CPUs, 90% load, exponential arrivals`,
    paperSetup: 'Acceptance thresholds of the simulator issue (not paper numbers): the "paper" column holds the threshold.',
    ourSetup: `Both Table 1 mixes and the io-mix, ${env.scale.invocations} invocations, ${env.scale.smallCpus} CPUs, 90% load.`,
    rows,
    tables,
    notes: [],
    charts: [],
  };
};

export const EXPERIMENTS: readonly { id: string; run: Experiment }[] = [
  { id: 'acceptance', run: acceptance },
  { id: 'calibration', run: calibration },
  { id: 'fig1', run: motivation },
  { id: 'fig2', run: fig2 },
  { id: 'fig5-6', run: endToEnd },
  { id: 'fig7', run: contextSwitches },
  { id: 'fig9', run: ablation },
  { id: 'fig10-14', run: sensitivity },
  { id: 'fig15', run: ghost },
  { id: 'io-table1', run: ioStudy },
];
