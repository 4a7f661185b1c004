import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAB } from '../../../src/harness/ab.js';
import { writeComparison } from '../../../src/harness/output.js';
import { ioMixWorkload } from '../../../src/workload/io-mix.js';
import { fakeSimulate } from './double.js';

test('--out writes report.json, curves.json and headless SVG charts naming every scheduler', async () => {
  const bundle = ioMixWorkload({ invocations: 300, cpus: 2, load: 0.7, seed: 1 });
  const result = runAB({ bundle, variants: ['fifo', 'srpt'], seed: 1, simulate: fakeSimulate });
  const dir = mkdtempSync(join(tmpdir(), 'ghost-alps-charts-'));
  try {
    await writeComparison(dir, result);
    assert.deepEqual(readdirSync(dir).sort(), ['cdf-classes.svg', 'cdf.svg', 'context-switches.svg', 'curves.json', 'percentiles.svg', 'report.json', 'throughput.svg']);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    assert.equal(report.runs.length, 2);
    for (const f of ['cdf.svg', 'percentiles.svg', 'context-switches.svg', 'throughput.svg', 'cdf-classes.svg']) {
      const svg = readFileSync(join(dir, f), 'utf8');
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /fifo/);
      assert.match(svg, /srpt/);
    }
    assert.match(readFileSync(join(dir, 'cdf.svg'), 'utf8'), /Group 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
