import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuDemandNs } from '../../../src/core/workload.js';
import { predictedSrpt, predictions } from '../../../src/sim/predicted-srpt.js';
import { simulate } from '../../../src/sim/index.js';
import { table1Workload } from '../../../src/workload/table1.js';

const { workload } = table1Workload({ mix: 'huawei', invocations: 1500, cpus: 4, load: 0.9, seed: 6 });

test('predictions: exact, error-bounded within ±50%, random-40 replaces ~40%, random replaces all', () => {
  const d = workload.invocations.map(cpuDemandNs);
  assert.deepEqual(predictions(workload, 'exact', 1), d);
  const eb = predictions(workload, 'error-bounded', 1);
  eb.forEach((p, i) => assert.ok(p >= 0.5 * d[i]! && p <= 1.5 * d[i]!));
  const r40 = predictions(workload, 'random-40', 1);
  const changed = r40.filter((p, i) => p !== d[i]).length / d.length;
  assert.ok(Math.abs(changed - 0.4) < 0.05, String(changed));
  assert.equal(predictions(workload, 'random', 1).filter((p, i) => p === d[i]).length, 0);
  assert.deepEqual(predictions(workload, 'random', 3), predictions(workload, 'random', 3));
});

test('SRPT on exact predictions through the delegated seam reproduces the SRPT oracle', () => {
  const o = { cpus: 4, scheduler: 'srpt', seed: 2 };
  const oracle = simulate(workload, o);
  const mine = predictedSrpt('exact')(workload, o);
  const mean = (r: typeof oracle): number => r.records.reduce((a, x) => a + x.endNs - x.arrivalNs, 0) / r.records.length;
  assert.equal(mine.records.length, workload.invocations.length);
  assert.ok(Math.abs(mean(mine) - mean(oracle)) / mean(oracle) < 0.01, `${mean(mine)} vs ${mean(oracle)}`);
  // Random predictions must cost something: the order is no longer shortest-first.
  assert.ok(mean(predictedSrpt('random')(workload, o)) > 1.05 * mean(oracle));
});
