import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuDemandNs } from '../../../src/core/workload.js';
import { offeredLoad } from '../../../src/workload/bundle.js';
import { PAPER_DEPLOYMENTS } from '../../../src/workload/deployments.js';
import { TABLE1_SHARES, table1Workload } from '../../../src/workload/table1.js';
import { InputError } from '../../../src/core/errors.js';

const groupShares = (b: ReturnType<typeof table1Workload>): number[] => {
  const g = new Map(b.workload.functions.map((f) => [f.funcId, f.group]));
  const c = [0, 0, 0, 0];
  for (const s of b.workload.invocations) c[g.get(s.funcId)! - 1]!++;
  return c.map((x) => x / b.workload.invocations.length);
};

for (const mix of ['huawei', 'azure'] as const) {
  test(`${mix}: group shares follow Table 1 within 1.5 pp`, () => {
    const b = table1Workload({ mix, invocations: 15000, cpus: 8, load: 0.9, seed: 7 });
    const got = groupShares(b);
    TABLE1_SHARES[mix].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 0.015, `G${i + 1}: ${got[i]} vs ${want}`));
  });

  test(`${mix}: arrival rate is scaled to the target utilisation (λ = U·C/E[S])`, () => {
    for (const [cpus, load] of [[8, 0.9], [56, 0.7], [2, 0.5]] as const) {
      const b = table1Workload({ mix, invocations: 15000, cpus, load, seed: 3 });
      const u = offeredLoad(b.workload, cpus);
      assert.ok(Math.abs(u - load) / load < 0.04, `cpus ${cpus} load ${load}: offered ${u}`);
      const meanCpu = b.workload.invocations.reduce((a, s) => a + cpuDemandNs(s), 0) / 15000;
      assert.ok(Math.abs(b.ratePerSec - (load * cpus) / (meanCpu / 1e9)) < 1e-6 * b.ratePerSec);
    }
  });
}

test('same seed gives the same workload; another seed a different one', () => {
  const a = table1Workload({ mix: 'huawei', invocations: 2000, cpus: 8, load: 0.9, seed: 11 });
  const b = table1Workload({ mix: 'huawei', invocations: 2000, cpus: 8, load: 0.9, seed: 11 });
  const c = table1Workload({ mix: 'huawei', invocations: 2000, cpus: 8, load: 0.9, seed: 12 });
  assert.deepEqual(a.workload, b.workload);
  assert.notDeepEqual(a.workload.invocations, c.workload.invocations);
});

test('function sequence and demands do not depend on load or arrival law', () => {
  const a = table1Workload({ mix: 'azure', invocations: 1000, cpus: 8, load: 0.9, seed: 5 });
  const b = table1Workload({ mix: 'azure', invocations: 1000, cpus: 56, load: 0.7, seed: 5, arrivals: 'bursty' });
  assert.deepEqual(
    a.workload.invocations.map((s) => [s.funcId, s.phases]),
    b.workload.invocations.map((s) => [s.funcId, s.phases]),
  );
  assert.notDeepEqual(a.workload.invocations.map((s) => s.arrivalNs), b.workload.invocations.map((s) => s.arrivalNs));
});

test('invocations are well formed: ids 1..n, sorted arrivals, one positive CPU phase, known funcIds', () => {
  const b = table1Workload({ mix: 'huawei', invocations: 3000, cpus: 4, load: 0.8, seed: 1, arrivals: 'poisson-count' });
  const ids = new Set(b.workload.functions.map((f) => f.funcId));
  let prev = 0;
  b.workload.invocations.forEach((s, i) => {
    assert.equal(s.id, i + 1);
    assert.ok(s.arrivalNs >= prev && Number.isInteger(s.arrivalNs));
    prev = s.arrivalNs;
    assert.equal(s.phases.length, 1);
    assert.equal(s.phases[0]!.kind, 'cpu');
    assert.ok(Number.isInteger(s.phases[0]!.ns) && s.phases[0]!.ns > 0);
    assert.ok(ids.has(s.funcId));
  });
});

test('per-deployment variance: a deployment’s invocations spread but stay near its mean', () => {
  const b = table1Workload({ mix: 'azure', invocations: 15000, cpus: 8, load: 0.9, seed: 2 });
  const by = new Map<number, number[]>();
  for (const s of b.workload.invocations) {
    const l = by.get(s.funcId) ?? [];
    l.push(cpuDemandNs(s) / 1e6);
    by.set(s.funcId, l);
  }
  let varied = 0;
  for (const [id, xs] of by) {
    const d = PAPER_DEPLOYMENTS.find((x) => x.funcId === id)!;
    const m = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
    assert.ok(Math.abs(m - d.meanMs) / d.meanMs < 0.06, `${d.name}: sample mean ${m} vs ${d.meanMs}`);
    assert.ok(sd / m <= 0.3, `${d.name}: CV ${sd / m}`);
    if (sd / m > 0.02) varied++;
  }
  assert.ok(varied >= 40, `only ${varied} deployments vary`);
});

test('bad scale parameters are InputErrors naming the flag', () => {
  assert.throws(() => table1Workload({ mix: 'huawei', invocations: 0, cpus: 8, load: 0.9, seed: 1 }), (e: unknown) => e instanceof InputError && e.input === '--invocations');
  assert.throws(() => table1Workload({ mix: 'huawei', invocations: 10, cpus: 0, load: 0.9, seed: 1 }), (e: unknown) => e instanceof InputError && e.input === '--cpus');
  assert.throws(() => table1Workload({ mix: 'huawei', invocations: 10, cpus: 8, load: 0, seed: 1 }), (e: unknown) => e instanceof InputError && e.input === '--load');
});
