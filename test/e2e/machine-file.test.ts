import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliArgv, ROOT } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'machine-cli-'));
const GOOD = { format: 'ghost-alps-machine/1', hz: 250, ctxSwitchNs: 30_000, launchCpuNs: 5_000_000, cpuCapacity: 0.9, backgroundLoad: 0.05, baseSliceNs: 700_000 };

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...pre] = cliArgv();
  const r = spawnSync(cmd!, [...pre, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('simulate --machine: a good file changes the run; a bad one exits 3 naming the file and the field, before any run', () => {
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(GOOD));
  const base = ['simulate', '--cpus', '2', '--invocations', '200', '--schedulers', 'eevdf', '--json'];
  const ideal = cli(base);
  const real = cli([...base, '--machine', good]);
  assert.equal(ideal.status, 0, ideal.stderr);
  assert.equal(real.status, 0, real.stderr);
  const mean = (out: string): number => (JSON.parse(out) as { runs: { meanMs: number }[] }).runs[0]!.meanMs;
  assert.ok(mean(real.stdout) > mean(ideal.stdout), `machine ${mean(real.stdout)} ms vs ideal ${mean(ideal.stdout)} ms`);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...GOOD, cpuCapacity: -1 }));
  for (const cmd of [base, ['compare', '--real', '--invocations', '20'], ['reproduce', '--out', join(dir, 'r'), '--only', 'acceptance']]) {
    const r = cli([...cmd, '--machine', bad]);
    assert.equal(r.status, 3, `${cmd[0]}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`machine ${bad}: cpuCapacity: must be > 0`));
  }
});
