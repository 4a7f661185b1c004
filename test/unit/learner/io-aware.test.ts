import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationRecord } from '../../../src/core/index.js';
import { learnRound } from '../../../src/learner/index.js';
import { Rng } from '../../../src/core/prng.js';

/*
 * Records shaped like the I/O study's mixed workload (seed 001, §6.3/§8.2): classes 1–2 are
 * I/O-bound (CPU burst, a 100–200 / 200–400 ms block, CPU burst: one voluntary switch), classes
 * 3–4 CPU-bound (fib, ~170 / ~580 ms). On CPU time alone ALPS ranks the sleepers "short" (§8.2.1).
 */
function mixedWindow(seed: number): InvocationRecord[] {
  const rng = new Rng(seed, 'test:io-mix-window');
  const u = (a: number, b: number): number => a + (b - a) * rng.next();
  const out: InvocationRecord[] = [];
  let t = 0;
  for (let i = 0; i < 400; i++) {
    t += -Math.log(1 - rng.next()) * 60e6;
    const cls = (i % 4) + 1;
    const [cpuMs, blockMs, vol] =
      cls === 1 ? [u(3, 8) + u(3, 8), u(100, 200), 1] : cls === 2 ? [u(8, 16) + u(8, 16), u(200, 400), 1] : cls === 3 ? [u(160, 180), 0, 0] : [u(550, 600), 0, 0];
    const cpuNs = Math.round(cpuMs * 1e6);
    const blockedNs = Math.round(blockMs * 1e6);
    const arrivalNs = Math.round(t);
    out.push({ funcId: cls, arrivalNs, endNs: arrivalNs + cpuNs + blockedNs, cpuNs, blockedNs, voluntarySwitches: vol, involuntarySwitches: 0 });
  }
  return out;
}

const rankOf = (r: ReturnType<typeof learnRound>, f: number): number => r.policy.entries.find((e) => e.funcId === f)!.rank;
const sliceOf = (r: ReturnType<typeof learnRound>, f: number): number => r.policy.entries.find((e) => e.funcId === f)!.sliceNs;

for (const seed of [3, 11]) {
  test(`CPU time alone ranks the I/O classes first; ioAware ranks them after the CPU classes (seed ${seed})`, () => {
    const records = mixedWindow(seed);
    const plain = learnRound(records, { cpus: 4, maxRecords: 1000 }, undefined, 80);
    for (const io of [1, 2]) for (const cpu of [3, 4]) assert.ok(rankOf(plain, io) < rankOf(plain, cpu), `plain: class ${io} should rank before class ${cpu}`);

    // Ranked by the paper's statistic (mean wait) plus blocked time, with a rank per distinct
    // key, the sleepers go behind the ~170 ms CPU class; the ~580 ms class may still come last
    // when its SRPT wait exceeds a sleeper's lifetime.
    const aware = learnRound(records, { cpus: 4, maxRecords: 1000, ioAware: true, rankBy: 'wait', rankClassRatio: 1 }, undefined, 80);
    for (const io of [1, 2]) assert.ok(rankOf(aware, io) > rankOf(aware, 3), `ioAware: class ${io} should rank after class 3`);
    assert.equal(rankOf(aware, 3), 1, 'a CPU-bound class is served first');
    assert.ok(rankOf(aware, 1) < rankOf(aware, 2), 'the shorter sleeper still ranks before the longer one');

    // Defaults (mean replay turnaround + blocked, geometric classes): a sleeper ranks as a job
    // of its lifetime — class 1 (~160 ms) with the ~170 ms CPU class, class 2 (~330 ms) after
    // it, both before the ~580 ms class — never ahead of real CPU work on CPU time alone.
    const d = learnRound(records, { cpus: 4, maxRecords: 1000, ioAware: true }, undefined, 80);
    assert.ok(rankOf(d, 1) >= rankOf(d, 3), 'ioAware default: class 1 no better than class 3');
    assert.ok(rankOf(d, 2) > rankOf(d, 3), 'ioAware default: class 2 after class 3');
    for (const io of [1, 2]) assert.ok(rankOf(d, io) < rankOf(d, 4), `ioAware default: class ${io} before class 4`);
  });
}

test('ioAware cuts an I/O function’s slices at its voluntary switches (one CPU burst, not the whole CPU time)', () => {
  const records = mixedWindow(5);
  const plain = learnRound(records, { cpus: 4, maxRecords: 1000, maxSliceNs: 1e9 }, undefined, 0);
  const aware = learnRound(records, { cpus: 4, maxRecords: 1000, maxSliceNs: 1e9, ioAware: true }, undefined, 0);
  for (const f of [1, 2]) {
    const stats = aware.functions.find((s) => s.funcId === f)!;
    const plainStats = plain.functions.find((s) => s.funcId === f)!;
    // Two bursts per invocation: the basic slice is about half the mean CPU time.
    assert.ok(Math.abs(stats.basicNs - stats.meanCpuNs / 2) < 0.1 * stats.meanCpuNs, `class ${f}: basic ${stats.basicNs} vs cpu ${stats.meanCpuNs}`);
    assert.ok(sliceOf(aware, f) < sliceOf(plain, f));
    assert.ok(plainStats.basicNs > 0.8 * plainStats.meanCpuNs);
  }
  // CPU-bound functions (no voluntary switches) keep whole-run slices.
  const cpu3 = aware.functions.find((s) => s.funcId === 3)!;
  assert.ok(cpu3.basicNs > 0.8 * cpu3.meanCpuNs);
});
