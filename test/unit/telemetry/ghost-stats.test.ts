import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GhostStatsPublisher } from '../../../src/agent/ghost/telemetry.js';
import type { AgentStats } from '../../../src/agent/ghost/agent.js';
import { nullPublisher, type TelemetryPublisher } from '../../../src/telemetry/publisher.js';
import { parseServerMessage } from '../../../src/telemetry/schema.js';

const stats = (decisions: number, records: number, stale: number): AgentStats => ({
  passes: 0,
  messages: 0,
  decisions,
  preemptions: 0,
  failures: { STALE: stale },
  deferred: 0,
  records,
  overflows: 0,
  invalid: 0,
  dropped: 0,
  boostYields: 0,
  globalMoves: 0,
  lostCpus: 0,
  reprobed: 0,
});

test('ghOSt agent statistics become per-second rates and util frames that satisfy schema v1', () => {
  const frames: Array<{ type: string } & Record<string, unknown>> = [];
  const pub: TelemetryPublisher = {
    ...nullPublisher,
    rates: (r) => frames.push({ v: 1, type: 'rates', ...r }),
    util: (u) => frames.push({ v: 1, type: 'util', ...u }),
  };
  const p = new GhostStatsPublisher(pub, 7);
  p.publish(1e9, stats(100, 10, 1));
  p.publish(3e9, stats(2100, 50, 5));
  const rates = frames.filter((f) => f.type === 'rates');
  const utils = frames.filter((f) => f.type === 'util');
  assert.equal(rates.length, 1, 'rates need a previous sample');
  assert.equal(rates[0]!['decisionsPerS'], 1000);
  assert.equal(rates[0]!['txnFailuresPerS'], 2);
  assert.equal(utils.length, 2);
  assert.equal(utils[1]!['throughputPerS'], 20);
  assert.equal(utils[1]!['completed'], 50);
  assert.equal(utils[1]!['cpus'], 7);
  for (const f of frames) assert.equal(parseServerMessage(JSON.parse(JSON.stringify(f))).type, f.type);
});
