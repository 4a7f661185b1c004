import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../src/sim/index.js';
import type { PolicyLearner } from '../../src/core/index.js';
import { conformance, MS, orderFromRecords, scenarioPolicy, scenarioWorkload, type Scenario } from './scenarios.js';

/** (a) The simulator's in-kernel ALPS model on one CPU; the scenario's policy from the first 1 ms round. */
function runSim(s: Scenario): string[] {
  const policy = scenarioPolicy(s);
  const learner = (): PolicyLearner => ({
    params: { windowNs: 1 * MS } as PolicyLearner['params'],
    current: policy,
    observe: () => undefined,
    learn: () => policy,
    setParams: () => undefined,
  });
  const r = simulate(scenarioWorkload(s), { cpus: 1, scheduler: 'alps', seed: 1, ctxSwitchNs: 0 }, { learner });
  return orderFromRecords(s, r.records);
}

test('conformance: the simulator model follows the ALPS rule on every scenario', (t) => {
  const { passed, total, line } = conformance('sim', runSim, (s, p) => t.diagnostic(`${s.name}: ${p || 'ok'}`));
  console.log(line);
  assert.equal(passed, total, line);
});
