/**
 * The six function apps as native programs (ghost-kernel/apps/apps.c): deterministic results, CPU
 * cost that grows with the parameter, clear errors for bad input. Runs anywhere they are built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { bpfArtifact } from '../../../src/native/bpf.js';

const APP = bpfArtifact('alps-burn').replace(/alps-burn$/, 'alps-app');
const skip = existsSync(APP) ? false : `${APP} not built (make -C ghost-kernel/bpf)`;

/** Runs one app. `workNs` is the CPU time of the work alone (the app reads its process CPU clock
 * around it): process start costs several ms of CPU on some hosts, more than a small N's work,
 * so how cost grows with N is a question about `workNs`, not the whole process. */
const run = (app: string, n: number): { result: string; cpuNs: number; workNs: number } => {
  const r = spawnSync(APP, [app, String(n)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [line, cpu, work] = r.stdout.trim().split('\n');
  const cpuNs = Number(/^cpu_ns (\d+)$/.exec(cpu ?? '')?.[1]);
  const workNs = Number(/^work_ns (\d+)$/.exec(work ?? '')?.[1]);
  assert.ok(Number.isFinite(cpuNs) && Number.isFinite(workNs), `${app} ${n} output: ${r.stdout}`);
  return { result: line!, cpuNs, workNs };
};

// Each pair's expected work ratio is >= 8x (fib: phi^6 ~ 18x; the rest linear or worse in N),
// far above the 1.5x asserted, so cache and frequency effects under load cannot flip it.
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
    assert.ok(b.workNs > a.workNs * 1.5, `${app} ${small}: ${a.workNs} ns of work, ${big}: ${b.workNs} ns`);
    // The process clock covers the work plus start-up: never less than the work itself.
    assert.ok(b.cpuNs >= b.workNs, `${app} ${big}: process ${b.cpuNs} ns < work ${b.workNs} ns`);
  });
}

test('bad input exits 2 naming it', { skip }, () => {
  for (const args of [['fib'], ['nope', '3'], ['fib', 'x'], ['fib', '99'], ['bfs', '0']]) {
    const r = spawnSync(APP, args, { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.ok(r.stderr.length > 0);
  }
});
