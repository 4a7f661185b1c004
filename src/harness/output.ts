import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { comparisonCharts } from './charts.js';
import type { ComparisonResult } from './report.js';
import type { InvocationMetrics } from './metrics.js';

/** One CSV line per invocation: what it experienced under one scheduler. */
export function invocationsCsv(ms: readonly InvocationMetrics[]): string {
  const f = (ns: number | undefined): string => (ns === undefined ? '' : String(ns / 1e6));
  const lines = ['id,funcId,group,class,turnaroundMs,cpuMs,firstWaitMs,waitMs,slices,contextSwitches,slowdown'];
  for (const m of ms) {
    lines.push(
      [m.id, m.funcId, m.group, m.cls ?? '', f(m.turnaroundNs), f(m.cpuNs), f(m.firstWaitNs), f(m.waitNs), m.slices ?? '', m.contextSwitches ?? '', m.slowdown.toFixed(4)].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Write a comparison to `dir`: `<prefix>report.json` (the `--json` report), `<prefix>curves.json`
 * (CDF and throughput points behind the charts), the SVG charts and, with `perInvocation`, one
 * `<prefix>invocations-<label>.csv` per run. Returns the files written.
 */
export async function writeComparison(dir: string, result: ComparisonResult, prefix = '', perInvocation = false): Promise<string[]> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError('--out', `cannot create directory ${dir}: ${(e as Error).message}`);
  }
  const files: Record<string, string> = {
    [`${prefix}report.json`]: `${JSON.stringify(result.report, null, 2)}\n`,
    [`${prefix}curves.json`]: `${JSON.stringify(result.curves)}\n`,
    ...(await comparisonCharts(result, prefix)),
  };
  if (perInvocation) {
    for (const [label, ms] of Object.entries(result.invocations)) files[`${prefix}invocations-${label.replace(/[^A-Za-z0-9_.=-]+/g, '_')}.csv`] = invocationsCsv(ms);
  }
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    writeFileSync(p, text);
    written.push(p);
  }
  return written;
}
