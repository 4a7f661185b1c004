import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scxFrames } from '../../../src/agent/scx/telemetry.js';
import type { ScxAgentState } from '../../../src/agent/scx/agent.js';
import { parseServerMessage } from '../../../src/telemetry/schema.js';

const state = (records: number): ScxAgentState => ({
  generation: 3,
  functions: 5,
  records,
  utilisationPct: 87.5,
  scheduler: { enqueued: 10, dispatched: 9 } as unknown as ScxAgentState['scheduler'],
  profiler: { switches: 100, records, dropped: 0, trackFail: 0 },
});

test('scx telemetry frames: counters carry scheduler and profiler state; throughput is per second of the window', () => {
  const first = scxFrames(state(10), 1e9, undefined, 2, 'enabled');
  assert.equal(first.util.throughputPerS, 0, 'no rate before a previous window exists');
  assert.equal(first.bpf.state, 'enabled');
  assert.equal(first.bpf.counters['generation'], 3);
  assert.equal(first.bpf.counters['profiler_switches'], 100);
  const second = scxFrames(state(30), 3e9, { atNs: 1e9, completed: 10 }, 2, 'enabled');
  assert.equal(second.util.throughputPerS, 10);
  assert.equal(second.util.completed, 30);
  assert.equal(second.util.utilisationPct, 87.5);
});

test('scx telemetry frames are valid schema-v1 messages', () => {
  const f = scxFrames(state(30), 3e9, { atNs: 1e9, completed: 10 }, 2, 'enabled');
  for (const [type, body] of [['bpf', f.bpf], ['util', f.util]] as const) {
    const msg = parseServerMessage(JSON.parse(JSON.stringify({ v: 1, type, ...body })));
    assert.equal(msg.type, type);
  }
});
