import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationRecord } from '../../../src/core/records.js';
import type { SimOptions } from '../../../src/core/sim.js';
import { compareOutcomes, runAB } from '../../../src/harness/ab.js';
import { formatComparison } from '../../../src/harness/table.js';
import { table1Workload } from '../../../src/workload/table1.js';
import { ioMixWorkload } from '../../../src/workload/io-mix.js';
import type { WorkloadBundle } from '../../../src/workload/bundle.js';
import { fakeSimulate } from './double.js';

const tiny: WorkloadBundle = {
  workload: {
    name: 'tiny',
    functions: [
      { funcId: 1, name: 'a', app: 'fib', group: 1 },
      { funcId: 2, name: 'b', app: 'fib', group: 4 },
    ],
    invocations: [],
  },
  description: 'tiny',
  cpus: 1,
  offeredLoad: 1,
  meanCpuNs: 1,
  ratePerSec: 1,
};

const rec = (id: number, funcId: number, arrivalMs: number, endMs: number, cpuMs: number): InvocationRecord => ({
  id,
  funcId,
  arrivalNs: arrivalMs * 1e6,
  endNs: endMs * 1e6,
  cpuNs: cpuMs * 1e6,
});

test('report numbers on hand-made records: mean, groups, slowdown, slower-than-SRPT', () => {
  const mine = [rec(1, 1, 0, 10, 10), rec(2, 1, 0, 30, 10), rec(3, 2, 0, 500, 450)];
  const srpt = [rec(1, 1, 0, 10, 10), rec(2, 1, 0, 20, 10), rec(3, 2, 0, 600, 450)];
  const { report } = compareOutcomes(tiny, 1, [{ scheduler: 'x', records: mine, contextSwitches: 6, makespanNs: 500e6, wallMs: 1 }], srpt);
  const r = report.runs[0]!;
  assert.equal(r.count, 3);
  assert.ok(Math.abs(r.meanMs - 180) < 1e-9);
  assert.equal(r.p50Ms, 30);
  assert.ok(Math.abs(r.slowerThanSrptPct! - 100 / 3) < 1e-9, 'only invocation 2 finished later than under SRPT');
  assert.equal(r.groups['1']!.count, 2);
  assert.equal(r.groups['1']!.meanMs, 20);
  assert.equal(r.groups['1']!.slowerThanSrptPct, 50);
  assert.equal(r.groups['4']!.slowerThanSrptPct, 0);
  assert.ok(Math.abs(r.meanSlowdown - (1 + 3 + 500 / 450) / 3) < 1e-9);
  assert.equal(r.switchesPerInvocation, 2);
  assert.equal(r.utilisation, null);
  assert.equal(r.meanWaitMs, null, 'no producer wait data → null, not 0');
});

test('runAB: one run per variant with the JSON shape scripts rely on; SRPT reference run added when absent', () => {
  const bundle = table1Workload({ mix: 'huawei', invocations: 600, cpus: 4, load: 0.8, seed: 3 });
  const calls: SimOptions[] = [];
  const spy = (w: Parameters<typeof fakeSimulate>[0], o: SimOptions): ReturnType<typeof fakeSimulate> => {
    calls.push(o);
    return fakeSimulate(w, o);
  };
  const { report, curves } = runAB({ bundle, variants: ['fifo', { scheduler: 'fifo', label: 'fifo-b', options: { hz: 1000 } }], seed: 9, simulate: spy, base: { hz: 100 } });
  assert.deepEqual(calls.map((c) => [c.scheduler, c.seed, c.cpus, c.hz]), [['srpt', 9, 4, 100], ['fifo', 9, 4, 100], ['fifo', 9, 4, 1000]]);
  const json = JSON.parse(JSON.stringify(report));
  assert.deepEqual(json.runs.map((r: { scheduler: string }) => r.scheduler), ['fifo', 'fifo']);
  for (const r of json.runs) {
    for (const k of ['scheduler', 'meanMs', 'p50Ms', 'p99Ms']) assert.ok(k in r, k);
    for (const g of ['1', '2', '3', '4']) {
      assert.equal(typeof r.groups[g].count, 'number');
      assert.equal(typeof r.groups[g].meanMs, 'number');
      assert.equal(typeof r.groups[g].p99Ms, 'number');
    }
    assert.equal(r.count, 600);
    assert.equal(typeof r.slowerThanSrptPct, 'number');
  }
  assert.equal(json.workload.invocations, 600);
  assert.deepEqual(Object.keys(curves), ['fifo', 'fifo-b']);
  // FIFO can never beat SRPT-first on mean here (single-phase jobs, same non-preemptive engine).
  assert.ok(report.runs[0]!.slowerThanSrptPct! > 0);
});

test('runAB reuses a plain srpt variant as the reference (no extra run) and rejects duplicate labels', () => {
  const bundle = table1Workload({ mix: 'azure', invocations: 300, cpus: 2, load: 0.7, seed: 1 });
  let n = 0;
  const { report } = runAB({ bundle, variants: ['srpt', 'fifo'], seed: 1, simulate: (w, o) => (n++, fakeSimulate(w, o)) });
  assert.equal(n, 2);
  assert.equal(report.runs[0]!.slowerThanSrptPct, 0);
  assert.throws(() => runAB({ bundle, variants: ['fifo', 'fifo'], seed: 1, simulate: fakeSimulate }), /duplicate run label/);
});

test('runAB refuses a simulator that loses invocations', () => {
  const bundle = table1Workload({ mix: 'azure', invocations: 50, cpus: 2, load: 0.7, seed: 1 });
  assert.throws(
    () => runAB({ bundle, variants: ['fifo'], seed: 1, srptReference: false, simulate: (w, o) => ({ ...fakeSimulate(w, o), records: [] }) }),
    /returned 0 records for 50/,
  );
});

test('classes appear in the report and the terminal table for the I/O mix', () => {
  const bundle = ioMixWorkload({ invocations: 400, cpus: 4, load: 0.8, seed: 2 });
  const { report } = runAB({ bundle, variants: ['fifo', 'srpt'], seed: 2, simulate: fakeSimulate });
  const r = report.runs[0]!;
  assert.deepEqual(Object.keys(r.classes!), ['1', '2', '3', '4']);
  assert.match(r.classes!['1']!.label, /I\/O/);
  const text = formatComparison(report, 'fifo');
  assert.match(text, /per class — mean \/ p99 ms/);
  assert.match(text, /srpt .*[+-]\d+\.\d%/);
});
