import type { ComparisonReport, RunReport } from './report.js';
import type { Summary } from './metrics.js';

/** Plain-text table with right-aligned numeric columns (first column left-aligned). */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Number with sensible precision for ms values spanning 1 ms to 1000 s. */
export function fmtMs(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x >= 1000) return x.toFixed(0);
  if (x >= 100) return x.toFixed(1);
  return x.toFixed(2);
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(1)}%`);

function delta(run: RunReport, base: RunReport | undefined): string {
  if (!base || base === run) return '';
  const d = (100 * (run.meanMs - base.meanMs)) / base.meanMs;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}%`;
}

/** The terminal report of a comparison: overall, per group, per class. */
export function formatComparison(report: ComparisonReport, baseline = 'cfs'): string {
  const w = report.workload;
  const base = report.runs.find((r) => r.label === baseline);
  const out: string[] = [];
  out.push(`${w.description}`);
  out.push(
    `offered load ${(w.offeredLoad * 100).toFixed(1)}% of ${w.cpus} CPUs · ${w.ratePerSec.toFixed(1)} req/s · mean CPU ${fmtMs(w.meanCpuMs)} ms · seed ${w.seed}`,
  );
  out.push('');
  out.push(
    textTable(
      ['turnaround (ms)', 'mean', base ? `vs ${baseline}` : '', 'p50', 'p90', 'p99', 'p99.9', 'slowdown', '>SRPT', 'ctx-sw/inv', 'wall s'],
      report.runs.map((r) => [
        r.label,
        fmtMs(r.meanMs),
        delta(r, base),
        fmtMs(r.p50Ms),
        fmtMs(r.p90Ms),
        fmtMs(r.p99Ms),
        fmtMs(r.p999Ms),
        r.meanSlowdown.toFixed(2),
        pct(r.slowerThanSrptPct),
        r.switchesPerInvocation.toFixed(2),
        (r.wallMs / 1000).toFixed(2),
      ]),
    ),
  );
  const section = (title: string, pick: (r: RunReport) => Record<string, Summary> | undefined, name: (k: string) => string): void => {
    const keys = [...new Set(report.runs.flatMap((r) => Object.keys(pick(r) ?? {})))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (keys.length === 0) return;
    const first = pick(report.runs[0]!) ?? {};
    out.push('');
    out.push(`${title} — mean / p99 ms`);
    out.push(
      textTable(
        ['', ...keys.map((k) => `${name(k)} (n=${first[k]?.count ?? 0})`)],
        report.runs.map((r) => [r.label, ...keys.map((k) => {
          const s = pick(r)?.[k];
          return s ? `${fmtMs(s.meanMs)} / ${fmtMs(s.p99Ms)}` : '–';
        })]),
      ),
    );
  };
  section('per group (Table 1)', (r) => r.groups, (k) => `G${k}`);
  section('per class', (r) => r.classes, (k) => `class ${k}`);
  if (report.runs[0]?.classes) {
    const labels = report.runs[0].classes;
    out.push(Object.entries(labels).map(([k, v]) => `  class ${k}: ${v.label}`).join('\n'));
  }
  return out.join('\n');
}
