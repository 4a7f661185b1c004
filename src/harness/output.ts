import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { comparisonCharts } from './charts.js';
import type { ComparisonResult } from './report.js';

/**
 * Write a comparison to `dir`: `<prefix>report.json` (the `--json` report), `<prefix>curves.json`
 * (CDF and throughput points behind the charts) and the SVG charts. Returns the files written.
 */
export async function writeComparison(dir: string, result: ComparisonResult, prefix = ''): Promise<string[]> {
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
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    writeFileSync(p, text);
    written.push(p);
  }
  return written;
}
