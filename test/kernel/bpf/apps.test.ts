/**
 * The six function apps as native programs (native/apps/apps.c): deterministic results, CPU
 * cost that grows with the parameter, clear errors for bad input. Runs anywhere they are built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { bpfArtifact } from '../../../src/native/bpf.js';

const APP = bpfArtifact('alps-burn').replace(/alps-burn$/, 'alps-app');
const skip = existsSync(APP) ? false : `${APP} not built (make -C ghost-kernel/bpf)`;

const run = (app: string, n: number): { result: string; cpuNs: number } => {
  const r = spawnSync(APP, [app, String(n)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [line, cpu] = r.stdout.trim().split('\n');
  return { result: line!, cpuNs: Number(/^cpu_ns (\d+)$/.exec(cpu!)?.[1]) };
};

const CASES: [string, number, number][] = [
  ['fib', 24, 30],
  ['float', 200_000, 2_000_000],
  ['bfs', 100, 400],
  ['mst', 60, 240],
  ['pagerank', 80, 320],
  ['feature', 5, 50],
];

for (const [app, small, big] of CASES) {
  test(`${app}: deterministic, cost grows with N`, { skip }, () => {
    const a = run(app, small);
    const b = run(app, big);
    assert.equal(run(app, small).result, a.result, 'same input, same result');
    assert.match(a.result, new RegExp(`^${app} ${small} `));
    assert.ok(b.cpuNs > a.cpuNs * 1.5, `${app} ${small}: ${a.cpuNs} ns, ${big}: ${b.cpuNs} ns`);
  });
}

test('bad input exits 2 naming it', { skip }, () => {
  for (const args of [['fib'], ['nope', '3'], ['fib', 'x'], ['fib', '99'], ['bfs', '0']]) {
    const r = spawnSync(APP, args, { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.ok(r.stderr.length > 0);
  }
});
