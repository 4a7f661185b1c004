import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { simulateCommand } from '../../../src/cli/commands/simulate.js';
import { InputError } from '../../../src/core/errors.js';

/** Run `ghost-alps simulate ARGS` in-process and return what it printed on stdout. */
async function runCli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // Text only: the test runner's own reports (binary, on this stdout) must pass through.
  process.stdout.write = ((s: string | Uint8Array, ...rest: unknown[]) => (typeof s === 'string' ? (chunks.push(s), true) : write(s, ...(rest as [])))) as typeof process.stdout.write;
  try {
    await yargs(['simulate', ...args]).command(simulateCommand).strict().fail((msg, err) => {
      throw err ?? new Error(msg);
    }).parseAsync();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

test('simulate --json prints one run per scheduler with the documented shape', async () => {
  const out = await runCli(['--workload', 'azure', '--cpus', '4', '--invocations', '400', '--schedulers', 'cfs,srpt,fifo', '--seed', '3', '--json']);
  const j = JSON.parse(out);
  assert.deepEqual(j.runs.map((r: { scheduler: string }) => r.scheduler), ['cfs', 'srpt', 'fifo']);
  for (const r of j.runs) {
    for (const k of ['meanMs', 'p50Ms', 'p99Ms']) assert.equal(typeof r[k], 'number', k);
    for (const g of Object.keys(r.groups)) for (const k of ['count', 'meanMs', 'p99Ms']) assert.equal(typeof r.groups[g][k], 'number');
    assert.equal(Object.values(r.groups).reduce((a: number, g) => a + (g as { count: number }).count, 0), 400);
  }
  assert.equal(j.runs[1].slowerThanSrptPct, 0);
  // Same seed, same numbers (wall-clock time aside).
  const again = JSON.parse(await runCli(['--workload', 'azure', '--cpus', '4', '--invocations', '400', '--schedulers', 'cfs,srpt,fifo', '--seed', '3', '--json']));
  const noWall = (x: { runs: { wallMs?: number }[] }): unknown => ({ ...x, runs: x.runs.map((r) => ({ ...r, wallMs: 0 })) });
  assert.deepEqual(noWall(again), noWall(j));
});

test('simulate prints a table and, with --out, JSON and SVG files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ghost-alps-sim-'));
  try {
    const out = await runCli(['--workload', 'io-mix', '--cpus', '2', '--invocations', '200', '--schedulers', 'cfs,rr', '--out', dir]);
    assert.match(out, /turnaround \(ms\)/);
    assert.match(out, /per class/);
    assert.ok(readdirSync(dir).includes('report.json'));
    assert.ok(readdirSync(dir).includes('cdf.svg'));
    const csv = readFileSync(join(dir, 'invocations-rr.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'id,funcId,group,class,turnaroundMs,cpuMs,firstWaitMs,waitMs,slices,contextSwitches,slowdown');
    assert.equal(csv.length, 201);
    const [id, , , cls, turnaround, cpu] = csv[1]!.split(',');
    assert.equal(id, '1');
    assert.match(cls!, /^[1-4]$/);
    assert.ok(Number(turnaround) >= Number(cpu) && Number(cpu) > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad flags are InputErrors naming the flag', async () => {
  await assert.rejects(runCli(['--schedulers', 'cfs,nope', '--invocations', '10']), (e: unknown) => e instanceof InputError && e.input === '--schedulers');
  await assert.rejects(runCli(['--load', '0', '--invocations', '10']), (e: unknown) => e instanceof InputError && e.input === '--load');
  await assert.rejects(runCli(['--workload', '/no/such/file', '--invocations', '10']), (e: unknown) => e instanceof InputError && e.input === '--workload');
});
