import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { AlpsLearner } from '../../../src/learner/index.js';
import { simulate } from '../../../src/sim/index.js';
import { loadWorkload } from '../../../src/workload/source.js';
import { smallSession, stepToGeneration } from '../../support/telemetry.js';

test('a live session without operator actions reproduces one whole-workload run exactly', () => {
  const s = smallSession({ invocations: 1500, seed: 2 });
  while (!s.done) s.step();
  const bundle = loadWorkload('huawei', { invocations: 1500, cpus: 8, load: 0.9, seed: 2 });
  const full = simulate(bundle.workload, { cpus: 8, scheduler: 'alps', seed: 2 }, { learner: (p) => new AlpsLearner(p) });
  const key = (r: { id?: number; endNs: number; cpuNs: number }): string => `${r.id}:${r.endNs}:${r.cpuNs}`;
  assert.deepEqual(s.records.map(key).sort(), full.records.map(key).sort());
  assert.deepEqual(
    s.policies.map((p) => p.policy),
    full.policies,
  );
  assert.ok(s.policies.length >= 2, 'the run should span several learner rounds');
});

test('set-params applies from the next generation; earlier generations are untouched', () => {
  const s = smallSession();
  stepToGeneration(s, 1);
  const before = structuredClone(s.policies[0]!.policy);
  assert.equal(s.policy!.params.alpha, 2);
  s.setParams({ alpha: 3.5 });
  assert.equal(s.params!.alpha, 3.5);
  stepToGeneration(s, 2);
  assert.equal(s.policy!.generation, 2);
  assert.equal(s.policy!.params.alpha, 3.5);
  assert.deepEqual(s.policies[0]!.policy, before, 'replay must not rewrite history');
});

test('a refused change leaves the session unchanged', () => {
  const s = smallSession();
  stepToGeneration(s, 1);
  assert.throws(() => s.setParams({ alpha: -1 }), InputError);
  assert.throws(() => s.pin(9999, { rank: 1 }), InputError);
  assert.throws(() => s.unpin(1), InputError);
  stepToGeneration(s, 2);
  assert.equal(s.policy!.params.alpha, 2);
  assert.deepEqual(s.pins, []);
});

test('pause holds the installed policy; resume learns again; pins reach the policy', () => {
  const s = smallSession({ invocations: 3000 });
  stepToGeneration(s, 1);
  s.pause();
  for (let i = 0; i < 11; i++) s.step();
  assert.equal(s.policy!.generation, 1, 'no new generation while paused');
  const fib = s.funcId('fib1');
  s.pin(fib, { rank: 1, sliceNs: 7_000_000 });
  s.resume();
  stepToGeneration(s, 2);
  assert.equal(s.policy!.generation, 2);
  const e = s.policy!.entries.find((x) => x.funcId === fib);
  assert.ok(e, 'pinned function has an entry');
  assert.equal(e.rank, 1);
  assert.equal(e.sliceNs, 7_000_000);
  assert.deepEqual(s.pins, [{ funcId: fib, rank: 1, sliceNs: 7_000_000 }]);
});

test('published stream: functions, a policy per generation, stats and util each step', () => {
  const seen: string[] = [];
  const pub = {
    functions: () => seen.push('functions'),
    policy: () => seen.push('policy'),
    stats: () => seen.push('stats'),
    util: () => seen.push('util'),
    rates: () => seen.push('rates'),
    bpf: () => seen.push('bpf'),
    state: () => seen.push('state'),
  };
  const s = smallSession({ publisher: pub });
  for (let i = 0; i < 6; i++) s.step();
  assert.equal(seen[0], 'functions');
  assert.equal(seen.filter((x) => x === 'stats').length, 6);
  assert.equal(seen.filter((x) => x === 'util').length, 6);
  assert.equal(seen.filter((x) => x === 'policy').length, s.policies.length);
  assert.ok(s.policies.length >= 1);
});

test('schedulers without a learner run, and refuse learner controls by name', () => {
  const s = smallSession({ scheduler: 'cfs' });
  s.step();
  assert.ok(s.records.length > 0);
  assert.throws(() => s.setParams({ alpha: 1 }), /no learner/);
});
