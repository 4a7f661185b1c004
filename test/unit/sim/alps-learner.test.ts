import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../src/sim/index.js';
import { MS, expWorkload } from '../../support/sim.js';

test('ALPS is fed by the real learner with its own completions every W of virtual time', () => {
  const w = expWorkload(1500, 2, 0.9, 20 * MS, 11, 6);
  const installedAt: number[] = [];
  const r = simulate(w, {
    cpus: 2,
    scheduler: 'alps',
    seed: 3,
    learner: { windowNs: 1000 * MS },
    onPolicy: (_p, now) => installedAt.push(now),
  });
  const lastArrival = w.invocations[w.invocations.length - 1]!.arrivalNs;
  assert.ok(r.policies.length >= Math.floor(lastArrival / (1000 * MS)), `${r.policies.length} rounds`);
  assert.deepEqual(installedAt, r.policies.map((_, i) => (i + 1) * 1000 * MS));
  for (let i = 1; i < r.policies.length; i++) assert.ok(r.policies[i]!.generation > r.policies[i - 1]!.generation);
  const funcs = new Set(w.invocations.map((s) => s.funcId));
  const last = r.policies[r.policies.length - 1]!;
  assert.ok(last.entries.length > 0);
  for (const e of last.entries) assert.ok(funcs.has(e.funcId), `entry for unknown function ${e.funcId}`);
  // The policy changes the schedule (same workload and seed under CFS differ).
  const cfs = simulate(w, { cpus: 2, scheduler: 'cfs', seed: 3 });
  assert.notDeepEqual(
    r.records.map((x) => x.endNs),
    cfs.records.map((x) => x.endNs),
  );
});
