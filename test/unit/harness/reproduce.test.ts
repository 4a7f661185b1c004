import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/core/errors.js';
import { EXPERIMENTS, runReproduction } from '../../../src/harness/reproduce/index.js';
import { tailCrossing } from '../../../src/harness/reproduce/helpers.js';
import { sortedCopy } from '../../../src/harness/stats.js';
import { fakeSimulate } from './double.js';

const TINY = { invocations: 300, paperCpus: 8, motivationCpus: 4, smallCpus: 2, ioCpus: 4 };

test('reproduce writes results.md with paper and ours side by side for every experiment', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ghost-alps-repro-'));
  try {
    // The test double runs every non-SRPT model as FIFO: this checks the report, not the models.
    const s = await runReproduction({ simulate: fakeSimulate, out, seed: 2, scale: TINY });
    assert.deepEqual(s.sections.map((x) => x.id), EXPERIMENTS.map((e) => e.id));
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /^# ghost-alps: the ALPS paper’s experiments, in simulation/);
    assert.match(md, /Scaled down: 300 invocations per run/);
    assert.match(md, /\| experiment \| quantity \| paper \| ours \| agrees \|/);
    for (const claim of ['89.2%', '98.9th', '−51.2%', '−34.1% … −57.2%', '−28.9%', '+12.7%', '+25.3% (111.4 ms)', '−25% / −29%']) {
      assert.ok(md.includes(claim), `paper value ${claim} missing`);
    }
    for (const sec of s.sections) assert.ok(md.includes(`## ${sec.title}`));
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(json.sections.length, EXPERIMENTS.length);
    assert.ok(existsSync(join(out, 'charts', 'fig1-huawei-cdf.svg')));
    assert.match(readFileSync(join(out, 'charts', 'fig5-azure-8cpu-loads.svg'), 'utf8'), /70%[\s\S]*80%[\s\S]*90%/);
    // Each configuration is simulated once however many experiments use it.
    assert.ok(s.simulatedRuns < 140, String(s.simulatedRuns));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('--only picks experiments and rejects unknown ids', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ghost-alps-repro-'));
  try {
    const s = await runReproduction({ simulate: fakeSimulate, out, seed: 1, scale: TINY, only: ['calibration'] });
    assert.deepEqual(s.sections.map((x) => x.id), ['calibration']);
    await assert.rejects(runReproduction({ simulate: fakeSimulate, out, seed: 1, scale: TINY, only: ['fig99'] }), (e: unknown) => e instanceof InputError && e.input === '--only');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('tail crossing finds where one distribution overtakes another for good', () => {
  const a = sortedCopy(Array.from({ length: 1000 }, (_, i) => (i < 990 ? i : i * 10)));
  const b = sortedCopy(Array.from({ length: 1000 }, (_, i) => i + 5));
  const q = tailCrossing(a, b)!;
  assert.ok(q > 98.9 && q <= 99.1, String(q));
  assert.equal(tailCrossing(b, sortedCopy(Array.from({ length: 1000 }, (_, i) => i * 2 + 10))), null);
});
