import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupOf } from '../../../src/core/workload.js';
import { msToNs } from '../../../src/core/time.js';
import { APPS, appCostMs } from '../../../src/workload/apps.js';
import { PAPER_DEPLOYMENTS, rangeMeanMs } from '../../../src/workload/deployments.js';

test('50 deployments of the six apps, funcIds 1..50, unique names', () => {
  assert.equal(PAPER_DEPLOYMENTS.length, 50);
  assert.deepEqual(PAPER_DEPLOYMENTS.map((d) => d.funcId), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(new Set(PAPER_DEPLOYMENTS.map((d) => d.name)).size, 50);
  for (const app of APPS) assert.ok(PAPER_DEPLOYMENTS.some((d) => d.app === app), `${app} unused`);
});

test('every deployment’s mean CPU time lies in its declared Table 1 group, and all four groups are present', () => {
  for (const d of PAPER_DEPLOYMENTS) {
    assert.equal(groupOf(msToNs(d.meanMs)), d.group, d.name);
    assert.ok(Math.abs(rangeMeanMs(d.app, d.paramLo, d.paramHi) - d.meanMs) < 1e-9);
  }
  for (const g of [1, 2, 3, 4]) assert.ok(PAPER_DEPLOYMENTS.filter((d) => d.group === g).length >= 6, `group ${g}`);
});

test('parameter ranges give at most ~25% deviation from the mean, as the paper measured', () => {
  for (const d of PAPER_DEPLOYMENTS) {
    const lo = appCostMs(d.app, d.paramLo);
    const hi = appCostMs(d.app, d.paramHi);
    assert.ok(lo <= d.meanMs && d.meanMs <= hi);
    assert.ok((hi - d.meanMs) / d.meanMs <= 0.25 && (d.meanMs - lo) / d.meanMs <= 0.25, `${d.name}: ${lo}..${hi} around ${d.meanMs}`);
  }
});
