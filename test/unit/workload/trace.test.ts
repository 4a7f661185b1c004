import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { InputError } from '../../../src/core/errors.js';
import { groupOf, cpuDemandNs } from '../../../src/core/workload.js';
import { offeredLoad } from '../../../src/workload/bundle.js';
import { parseArtifactTrace, readArtifactTrace } from '../../../src/workload/trace.js';
import { artifactTracePath } from '../../support/shared-data.js';

const SAMPLE = ['1 23 fib 20 5002', '2 100 graphBfs 30 5008', '', '3 35 fib 25 5021', '4 100000 floatOperation 25 5020'].join('\n');

test('parses the artifact format: funcId = port − 5000, arrivals at s·Σgap, costs from the app model', () => {
  const b = parseArtifactTrace(SAMPLE, 'sample', { cpus: 2, msPerUnit: 0.21, seed: 1 });
  const inv = b.workload.invocations;
  assert.deepEqual(inv.map((s) => s.funcId), [2, 8, 21, 20]);
  assert.deepEqual(inv.map((s) => s.arrivalNs), [4.2e6, 10.5e6, 15.75e6, 21e6]);
  assert.deepEqual(inv.map((s) => groupOf(cpuDemandNs(s))), [1, 1, 4, 2]);
  assert.deepEqual(b.workload.functions.map((f) => f.name), ['fib1', 'graphBfs3', 'floatOperation4', 'fib5']);
});

test('without a fixed unit, gaps are scaled to the target load', () => {
  const b = parseArtifactTrace(SAMPLE, 'sample', { cpus: 2, load: 0.5, seed: 1 });
  assert.ok(Math.abs(offeredLoad(b.workload, 2) - 0.5) < 1e-6);
});

test('bad rows are InputErrors naming file:line and the column', () => {
  const bad = (text: string, re: RegExp): void =>
    assert.throws(() => parseArtifactTrace(text, 'f.txt', { cpus: 2, seed: 1 }), (e: unknown) => e instanceof InputError && re.test(e.message));
  bad('1 23 fib 20', /^f\.txt:1: expected 5/);
  bad('1 23 fib 20 5002\n2 x fib 20 5002', /^f\.txt:2: column 2/);
  bad('1 23 resize 20 5002', /^f\.txt:1 column 3: unknown app/);
  bad('1 23 fib -1 5002', /column 4/);
  bad('1 23 fib 2 80', /column 5/);
  bad('', /no invocation rows/);
});

test('a missing trace file is named', async () => {
  await assert.rejects(readArtifactTrace('/nonexistent/trace', { cpus: 2, seed: 1 }), /\/nonexistent\/trace: cannot read: ENOENT/);
});

const EXP = artifactTracePath('exp');
test('the artifact exp trace reproduces the Huawei Table 1 shares', { skip: existsSync(EXP) ? false : `${EXP} absent (shared data not mounted)` }, async () => {
  const b = await readArtifactTrace(EXP, { cpus: 56, load: 0.9, seed: 1 });
  assert.equal(b.workload.invocations.length, 15000);
  assert.equal(b.workload.functions.length, 10);
  const g = new Map(b.workload.functions.map((f) => [f.funcId, f.group]));
  const c = [0, 0, 0, 0];
  for (const s of b.workload.invocations) c[g.get(s.funcId)! - 1]!++;
  [0.698, 0.232, 0.06, 0.01].forEach((want, i) => assert.ok(Math.abs(c[i]! / 15000 - want) < 0.005, `G${i + 1}`));
});
