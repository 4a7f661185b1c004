import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLearner, warmUpLearner } from '../../../src/learner/index.js';
import { taggedCounters } from '../../../src/harness/real/real-ab.js';

test('warmUpLearner runs throwaway rounds: the live learner it was given the params of learns only what it observes', () => {
  const live = createLearner({ cpus: 2 });
  const ms = warmUpLearner(live.params, 2, 50);
  assert.ok(ms >= 0);
  assert.equal(live.buffered, 0);
  assert.equal(live.current, undefined);
  live.observe([{ funcId: 7, arrivalNs: 1e9, endNs: 1.01e9, cpuNs: 1e7 }]);
  const p = live.learn(2e9, 50);
  assert.deepEqual(p.entries.map((e) => e.funcId), [7]);
  assert.equal(p.generation, 1);
});

test('taggedCounters reads the closed-loop agent\'s own CPU accounting line', () => {
  assert.deepEqual(taggedCounters(['x', 'agentcost {"rounds":6,"learnMs":1161.7,"wakeups":682,"totalMs":2712.9}'], 'agentcost'), { rounds: 6, learnMs: 1162, wakeups: 682, totalMs: 2713 });
  assert.equal(taggedCounters(['agentcost '], 'agentcost'), undefined);
  assert.equal(taggedCounters([], 'agentcost'), undefined);
});
