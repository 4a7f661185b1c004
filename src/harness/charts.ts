import type { TopLevelSpec } from 'vega-lite';
import type { RunCurves } from './metrics.js';
import type { ComparisonResult } from './report.js';

/**
 * SVG charts of a comparison, rendered headless with Vega-Lite → Vega (no browser, no
 * canvas): the paper's Fig. 5 (turnaround CDF per group), Fig. 6 (percentile breakdown per
 * group), Fig. 7 (context switches), plus completions over time and, for the I/O mix, a CDF
 * per study class.
 */

/** Fixed colours so a scheduler looks the same in every chart (paper-like palette). */
const COLOURS: Record<string, string> = {
  cfs: '#1f77b4',
  eevdf: '#17becf',
  fifo: '#8c564b',
  rr: '#7f7f7f',
  sfs: '#ff7f0e',
  srpt: '#2b2b2b',
  alps: '#d62728',
  'alps-delegated': '#9467bd',
};
const EXTRA = ['#e377c2', '#bcbd22', '#2ca02c', '#aec7e8', '#ffbb78', '#98df8a', '#c5b0d5', '#c49c94'];

function colourScale(labels: readonly string[]): { domain: string[]; range: string[] } {
  let k = 0;
  return { domain: [...labels], range: labels.map((l) => COLOURS[l] ?? EXTRA[k++ % EXTRA.length]!) };
}

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#444' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6', tickColor: '#444', domainColor: '#444' },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 'bold' },
  legend: { orient: 'top', labelFontSize: 11, titleFontSize: 11, symbolStrokeWidth: 2 },
  line: { strokeWidth: 1.8 },
} as const;

/**
 * Render a Vega-Lite spec to SVG headless. vega and vega-lite are imported here, on first use,
 * because loading them costs ~0.3 s on the host and seconds inside a TCG guest, and most
 * commands never draw a chart.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type CdfKey = 'groups' | 'classes';

function cdfRows(curves: Record<string, RunCurves>, key: CdfKey, facetName: (k: string) => string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const [label, c] of Object.entries(curves)) {
    for (const [k, pts] of Object.entries(c.cdfMs[key] ?? {})) {
      for (const [ms, f] of pts) rows.push({ scheduler: label, facet: facetName(k), ms: Math.max(ms, 0.01), cdf: f });
    }
  }
  return rows;
}

/**
 * The paper's CDF figure: one panel per group (or class), turnaround on a log axis, a line per
 * scheduler; `extra` adds encodings (e.g. a dash per load).
 */
function facetedCdfSpec(title: string, rows: Record<string, unknown>[], labels: string[], extra: Record<string, unknown> = {}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: rows },
    facet: { column: { field: 'facet', type: 'nominal', title: null, sort: 'ascending' } },
    spec: {
      width: 220,
      height: 180,
      mark: { type: 'line', interpolate: 'step-after', clip: true },
      encoding: {
        x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'execution duration (ms)' },
        y: { field: 'cdf', type: 'quantitative', scale: { domain: [0, 1] }, title: 'CDF' },
        color: { field: 'scheduler', type: 'nominal', scale: colourScale(labels), title: null },
        ...extra,
      },
    },
    resolve: { scale: { x: 'independent' } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Fig. 5 style: one panel per group, CDF of turnaround (log ms), a line per scheduler. */
export function cdfSpec(result: ComparisonResult, key: CdfKey = 'groups'): TopLevelSpec {
  const labels = result.report.runs.map((r) => r.label);
  const name = key === 'groups' ? (k: string) => `Group ${k}` : (k: string) => `Class ${k}`;
  const title = `${result.report.workload.name}: turnaround CDF by ${key === 'groups' ? 'group' : 'class'}`;
  return facetedCdfSpec(title, cdfRows(result.curves, key, name), labels);
}

/**
 * Fig. 5 proper: one panel per group, a line per scheduler and load ("CFS 90"): colour is the
 * scheduler, dash the load. `runs` maps a load label ("70%") to that load's comparison.
 */
export function loadsCdfSpec(title: string, runs: Record<string, ComparisonResult>): TopLevelSpec {
  const rows: Record<string, unknown>[] = [];
  let labels: string[] = [];
  for (const [load, result] of Object.entries(runs)) {
    labels = result.report.runs.map((r) => r.label);
    for (const row of cdfRows(result.curves, 'groups', (k) => `Group ${k}`)) rows.push({ ...row, load });
  }
  return facetedCdfSpec(title, rows, labels, { strokeDash: { field: 'load', type: 'nominal', title: 'load' }, detail: { field: 'load' } });
}

/** Fig. 6 style: mean, p50, p90, p99 per group, bars grouped by scheduler. */
export function percentileSpec(result: ComparisonResult): TopLevelSpec {
  const labels = result.report.runs.map((r) => r.label);
  const rows: Record<string, unknown>[] = [];
  for (const r of result.report.runs) {
    for (const [g, s] of Object.entries(r.groups)) {
      for (const [stat, v] of [['mean', s.meanMs], ['p50', s.p50Ms], ['p90', s.p90Ms], ['p99', s.p99Ms]] as const) {
        rows.push({ scheduler: r.label, group: `Group ${g}`, stat, ms: v });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${result.report.workload.name}: percentile breakdown`,
    data: { values: rows },
    facet: { column: { field: 'group', type: 'nominal', title: null } },
    spec: {
      width: 200,
      height: 180,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'stat', type: 'nominal', sort: ['mean', 'p50', 'p90', 'p99'], title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'scheduler', type: 'nominal', sort: labels },
        y: { field: 'ms', type: 'quantitative', title: 'execution duration (ms)' },
        color: { field: 'scheduler', type: 'nominal', scale: colourScale(labels), title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Fig. 7 style: context switches per invocation, per scheduler. */
export function switchesSpec(result: ComparisonResult): TopLevelSpec {
  const labels = result.report.runs.map((r) => r.label);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${result.report.workload.name}: context switches`,
    width: 60 * labels.length,
    height: 200,
    data: { values: result.report.runs.map((r) => ({ scheduler: r.label, perInvocation: r.switchesPerInvocation, total: r.contextSwitches })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'scheduler', type: 'nominal', sort: labels, title: null, axis: { labelAngle: -30 } },
      y: { field: 'perInvocation', type: 'quantitative', title: 'context switches per invocation' },
      color: { field: 'scheduler', type: 'nominal', scale: colourScale(labels), legend: null },
      tooltip: [{ field: 'total', type: 'quantitative' }],
    },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Completions per second over the run, one line per scheduler (the I/O study's Fig. 6). */
export function throughputSpec(result: ComparisonResult): TopLevelSpec {
  const labels = result.report.runs.map((r) => r.label);
  const rows: Record<string, unknown>[] = [];
  for (const [label, c] of Object.entries(result.curves)) {
    const { binMs, completions } = c.throughput;
    completions.forEach((n, i) => rows.push({ scheduler: label, t: (i * binMs) / 1000, rate: n / (binMs / 1000) }));
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${result.report.workload.name}: throughput`,
    width: 520,
    height: 200,
    data: { values: rows },
    mark: { type: 'line' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time (s)' },
      y: { field: 'rate', type: 'quantitative', title: 'completions per second' },
      color: { field: 'scheduler', type: 'nominal', scale: colourScale(labels), title: null },
    },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Every chart of a comparison: file name → SVG text. */
export async function comparisonCharts(result: ComparisonResult, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  out[`${prefix}cdf.svg`] = await renderSvg(cdfSpec(result, 'groups'));
  out[`${prefix}percentiles.svg`] = await renderSvg(percentileSpec(result));
  out[`${prefix}context-switches.svg`] = await renderSvg(switchesSpec(result));
  out[`${prefix}throughput.svg`] = await renderSvg(throughputSpec(result));
  if (result.report.runs.some((r) => r.classes)) out[`${prefix}cdf-classes.svg`] = await renderSvg(cdfSpec(result, 'classes'));
  return out;
}
