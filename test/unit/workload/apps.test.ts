import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupOf } from '../../../src/core/workload.js';
import { appCostNs, appParamFor, parseAppName, APPS } from '../../../src/workload/apps.js';
import { InputError } from '../../../src/core/errors.js';

test('artifact deployments land in the groups the artifact assigns them', () => {
  const cases: [string, number[], number][] = [
    ['fib', [23, 24, 25, 26], 1],
    ['graphBfs', [100], 1],
    ['graphMst', [8, 9, 10], 1],
    ['graphPagerank', [8, 9, 10], 1],
    ['featureExtractor', [1], 1],
    ['fib', [28], 2],
    ['fib', [29], 2],
    ['floatOperation', [100000], 2],
    ['fib', [31], 3],
    ['fib', [35, 36], 4],
  ];
  for (const [name, ns, group] of cases) {
    const app = parseAppName(name, 'test');
    for (const n of ns) assert.equal(groupOf(appCostNs(app, n)), group, `${name}(${n})`);
  }
});

test('fib grows by φ per step; paramFor inverts every cost model', () => {
  const r = appCostNs('fib', 31) - 10e6;
  const q = appCostNs('fib', 30) - 10e6;
  assert.ok(Math.abs(r / q - 1.618) < 0.01);
  for (const app of APPS) {
    for (const ms of [20, 80, 300, 900]) {
      const n = appParamFor(app, ms);
      assert.ok(appCostNs(app, n) >= ms * 1e6 - 1, `${app} ${ms}`);
      if (n > 2) assert.ok(appCostNs(app, n - 1) < ms * 1e6, `${app} ${ms}: ${n} not minimal`);
    }
  }
});

test('unknown app names are InputErrors naming the input', () => {
  assert.throws(() => parseAppName('resize', 'trace:3 column 3'), (e: unknown) => e instanceof InputError && e.input === 'trace:3 column 3');
});
