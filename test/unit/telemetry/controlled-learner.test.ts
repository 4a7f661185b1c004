import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationRecord } from '../../../src/core/records.js';
import { AlpsLearner } from '../../../src/learner/index.js';
import { ControlledLearner } from '../../../src/telemetry/controlled-learner.js';
import { nullPublisher } from '../../../src/telemetry/publisher.js';

/** A window of completed invocations of three functions (deterministic). */
function records(fromNs: number): InvocationRecord[] {
  const out: InvocationRecord[] = [];
  for (let i = 0; i < 300; i++) {
    const funcId = 1 + (i % 3);
    const cpuNs = funcId * 10_000_000 + (i % 7) * 1_000_000;
    const arrivalNs = fromNs + i * 15_000_000;
    out.push({ funcId, arrivalNs, endNs: arrivalNs + cpuNs + (i % 5) * 2_000_000, cpuNs, id: i });
  }
  return out;
}

test('steering a learner the way an agent uses it: params, pause/resume, pin, and what gets published', () => {
  const published: string[] = [];
  const pub = { ...nullPublisher, policy: (p: { generation: number }) => published.push(`policy ${p.generation}`), state: (s: { learning: string }) => published.push(`state ${s.learning}`) };
  const l = new ControlledLearner(new AlpsLearner({ cpus: 4 }), pub);
  l.observe(records(0));
  const g1 = l.learn(5e9, 80);
  assert.equal(g1.generation, 1);
  l.setParams({ alpha: 3 });
  assert.throws(() => l.setParams({ alpha: -1 }));
  assert.equal(l.params.alpha, 3);
  l.pause();
  l.observe(records(5e9));
  assert.equal(l.learn(10e9, 80), g1, 'paused: the policy in force stays');
  l.pin(2, { rank: 1 });
  l.resume();
  const g2 = l.learn(15e9, 80);
  assert.equal(g2.generation, 2);
  assert.equal(g2.params.alpha, 3);
  assert.equal(g2.entries.find((e) => e.funcId === 2)?.rank, 1);
  assert.throws(() => l.unpin(3), /not pinned/);
  assert.deepEqual(published, ['policy 1', 'state running', 'state paused', 'state paused', 'state running', 'policy 2']);
  assert.deepEqual((l.snapshot() as { pins: unknown }).pins, [{ funcId: 2, rank: 1 }]);
});
