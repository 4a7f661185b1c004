import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

test('the shipped machine files validate, and reproduce runs on one and names it in results.md', () => {
  const shipped = readdirSync(join(ROOT, 'machines')).filter((f) => f.endsWith('.json'));
  assert.ok(shipped.includes('kvm-host-56cpu.json'), `machines/: ${shipped.join(', ')}`);
  const out = join(dir, 'repro-shipped');
  const file = join('machines', 'kvm-host-56cpu.json');
  // fig7 runs at the paper's 56 CPUs (and 8): the setting the shipped file is for.
  const r = cli(['reproduce', '--out', out, '--only', 'fig7', '--invocations', '300', '--machine', file]);
  assert.equal(r.status, 0, r.stderr);
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  assert.match(md, new RegExp(`\\*\\*Machine\\.\\*\\* Every run uses the machine file ${file.replace(/[.]/g, '\\.')}: HZ 250, context switch 2 µs, 0\\.14 ms launch CPU`));
  assert.match(md, /56 CPUs/);
  // Every other shipped file must at least pass the validator simulate --machine uses.
  for (const f of shipped) {
    const v = cli(['simulate', '--cpus', '2', '--invocations', '100', '--schedulers', 'eevdf', '--json', '--machine', join('machines', f)]);
    assert.equal(v.status, 0, `${f}: ${v.stderr}`);
  }
});
