import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { AgentMetrics, serveMetrics } from '../../../src/service/metrics.js';
import type { Policy } from '../../../src/core/policy.js';
import { defaultLearnerParams } from '../../../src/learner/index.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;
const names = new Map([
  [11, 'thumbnail'],
  [22, 'resize'],
]);
const rec = (funcId: number, turnMs: number, cpuMs: number) => ({ funcId, arrivalNs: 1e9, endNs: 1e9 + turnMs * 1e6, cpuNs: cpuMs * 1e6 });
const policy = (generation: number, alpha: number, entries: Policy['entries']): Policy => ({ generation, params: { ...defaultLearnerParams(), alpha }, entries });
const value = (text: string, series: string): number => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.slice(series.length + 1) ?? NaN);

function filled(): AgentMetrics {
  const m = new AgentMetrics((id) => names.get(id), { backend: 'scx' });
  m.records([rec(11, 12, 5), rec(11, 30, 5), rec(22, 400, 200), rec(33, 2, 1)]);
  m.policy(policy(1, 2, [{ funcId: 11, rank: 1, sliceNs: 4e6 }, { funcId: 22, rank: 2, sliceNs: 0 }]));
  m.policy(policy(2, 3.5, [{ funcId: 22, rank: 1, sliceNs: 8e6 }]));
  m.learnRound(0.002);
  m.schedulerState('enabled');
  m.scx({ scheduler: { enqueue: 10, dispatch: 7 }, profiler: { switches: 100, records: 4, dropped: 0, trackFail: 0 }, utilisationPct: 87 });
  m.scx({ scheduler: { enqueue: 25, dispatch: 9 }, profiler: { switches: 160, records: 6, dropped: 1, trackFail: 0 }, utilisationPct: 91 });
  m.ghost({ decisions: 1000, failures: { ESTALE: 2 }, preemptions: 0, messages: 0, overflows: 0 }, 10);
  m.ghost({ decisions: 3000, failures: { ESTALE: 5, ENOENT: 1 }, preemptions: 0, messages: 0, overflows: 0 }, 12);
  return m;
}

test('per-function counters and histogram, policy gauges, cumulative kernel counters turned into increments', async () => {
  const t = await filled().text();
  assert.equal(value(t, 'ghost_alps_invocations_total{function="thumbnail"}'), 2);
  assert.equal(value(t, 'ghost_alps_invocations_total{function="id:33"}'), 1, 'unnamed functions are labelled by id');
  assert.equal(value(t, 'ghost_alps_turnaround_seconds_bucket{le="0.025",function="thumbnail"}'), 1);
  assert.equal(value(t, 'ghost_alps_turnaround_seconds_count{function="resize"}'), 1);
  assert.equal(value(t, 'ghost_alps_cpu_seconds_total{function="resize"}'), 0.2);
  assert.equal(value(t, 'ghost_alps_policy_generation'), 2);
  assert.equal(value(t, 'ghost_alps_policy_generations_total'), 2);
  assert.equal(value(t, 'ghost_alps_policy_parameter{name="alpha"}'), 3.5);
  assert.equal(value(t, 'ghost_alps_function_rank{function="resize"}'), 1);
  assert.equal(value(t, 'ghost_alps_function_slice_seconds{function="resize"}'), 0.008);
  assert.ok(!t.includes('ghost_alps_function_rank{function="thumbnail"}'), 'a function that left the policy has no rank');
  assert.equal(value(t, 'ghost_alps_scheduler_state{state="enabled"}'), 1);
  assert.equal(value(t, 'ghost_alps_scheduler_state{state="disabled"}'), 0);
  assert.equal(value(t, 'ghost_alps_scheduler_events_total{event="enqueue"}'), 25);
  assert.equal(value(t, 'ghost_alps_profiler_events_total'), 160);
  assert.equal(value(t, 'ghost_alps_profiler_dropped_total'), 1);
  assert.equal(value(t, 'ghost_alps_cpu_utilisation_ratio'), 0.91);
  assert.equal(value(t, 'ghost_alps_learner_round_duration_seconds_count'), 1);
  assert.equal(value(t, 'ghost_alps_agent_decisions_total'), 3000);
  assert.equal(value(t, 'ghost_alps_agent_decisions_per_second'), 1000);
  assert.equal(value(t, 'ghost_alps_agent_failed_transactions_total{reason="ESTALE"}'), 5);
  assert.equal(value(t, 'ghost_alps_agent_failed_transactions_total{reason="ENOENT"}'), 1);
});

test('a counter source that restarts (new scheduler) counts from zero again instead of going negative', async () => {
  const m = new AgentMetrics(() => undefined, { defaultMetrics: false });
  m.scx({ scheduler: {}, profiler: { switches: 100, records: 0, dropped: 0, trackFail: 0 }, utilisationPct: 0 });
  m.scx({ scheduler: {}, profiler: { switches: 30, records: 0, dropped: 0, trackFail: 0 }, utilisationPct: 0 });
  assert.equal(value(await m.text(), 'ghost_alps_profiler_events_total'), 130);
});

test('live scrape over HTTP; promtool check metrics accepts it', { skip: promtool ? false : 'promtool not installed (apt-get install prometheus)' }, async () => {
  const m = filled();
  const srv = await serveMetrics(m, '127.0.0.1', 0);
  try {
    const r = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
    const body = await r.text();
    assert.ok(body.includes('process_cpu_seconds_total'), 'default process metrics');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.equal((await fetch(`http://127.0.0.1:${srv.port}/`)).status, 404);
  } finally {
    await srv.close();
  }
});
