/**
 * The service around a backend, driven through its seams (the sched_ext scheduler cannot attach
 * on the host kernel): a fake runScx that behaves like runScxAgent's contract — it attaches,
 * hands out live controls, renumbers and reports installed policies, feeds records to the
 * learner, and returns 'stopped' on abort. What is real: the config file, the ALPS learner,
 * reload, metrics over HTTP, logs, signals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Policy } from '../../../src/core/policy.js';
import type { InvocationRecord } from '../../../src/core/records.js';
import { AgentService, learnerPatch, type ServiceDeps } from '../../../src/service/run.js';
import { createLogger } from '../../../src/service/logging.js';
import type { Notifier } from '../../../src/service/sd-notify.js';
import type { ScxAgentOptions } from '../../../src/agent/scx/agent.js';
import { startScxTelemetry } from '../../../src/agent/scx/telemetry.js';
import { funcIdOfName } from '../../../src/workload/funcs.js';
import { explicitFlags } from '../../../src/service/config.js';

const FUNCS = ['thumbnail', 'resize', 'transcode'];
const config = (alpha: number, extra = ''): string =>
  `backend: scx\nlearn: true\nlearner:\n  alpha: ${alpha}\n  windowMs: 600000\n  cpus: 2\nmetrics: 127.0.0.1:0\nfunctions:\n  names: [${FUNCS.join(', ')}]\n${extra}`;

function records(n: number, t0: number): InvocationRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const f = i % 3;
    const cpu = [5e6, 20e6, 80e6][f]!;
    const arrivalNs = t0 + i * 10e6;
    return { funcId: funcIdOfName(FUNCS[f]!), arrivalNs, endNs: arrivalNs + cpu * 2, cpuNs: cpu };
  });
}

function harness(cfgText: string) {
  const dir = mkdtempSync(join(tmpdir(), 'svc-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, cfgText);
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      for (const l of String(c).split('\n').filter(Boolean)) logs.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const notes: string[] = [];
  const notifier: Notifier = { socket: '/fake', notify: async (s) => (notes.push(Object.keys(s)[0]!), true), close: () => undefined };
  const signals = new EventEmitter();
  let state = 'disabled';
  const fake = { detaches: 0, attaches: 0, windows: [] as number[] };
  const runScx = async (o: ScxAgentOptions): Promise<string> => {
    state = 'enabled';
    fake.attaches++;
    let gen = 0;
    const install = (p: Policy): void => o.onPolicy?.({ ...p, generation: ++gen });
    o.onAttached?.('');
    o.onControl?.({
      learnNow: () => (o.learner ? (install(o.learner.learn(Number(process.hrtime.bigint()), 60)), o.learner.current) : undefined),
      setWindowNs: (ns) => fake.windows.push(ns),
      mapCgroup: () => undefined,
    });
    const recs = records(30, Number(process.hrtime.bigint()) - 2e9);
    o.learner?.observe(recs);
    o.onRecords?.(recs);
    // One window's tick, as runScxAgent's timer would do it.
    if (o.learner) install(o.learner.learn(Number(process.hrtime.bigint()), 60));
    await new Promise<void>((r) => o.signal!.addEventListener('abort', () => r(), { once: true }));
    state = 'disabled';
    fake.detaches++;
    return 'stopped';
  };
  const deps: ServiceDeps = { runScx, scxState: () => state, startScxTelemetry, notifier, logger: createLogger({ stream, pretty: false }), signals: signals as unknown as ServiceDeps['signals'] };
  const svc = new AgentService(cfg, {}, explicitFlags([]), deps);
  return { svc, cfg, logs, notes, signals, fake, state: () => state };
}

const until = async <T>(f: () => T | undefined, what: string): Promise<T> => {
  for (let i = 0; i < 500; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out: ${what}`);
};
const scrape = async (logs: Record<string, unknown>[]): Promise<string> => (await fetch(String(logs.find((l) => l.event === 'metrics')!.url))).text();
const value = (text: string, series: string): number => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.slice(series.length + 1) ?? NaN);

test('learner parameters from the config (absent keys: the mode defaults; window in ms)', () => {
  const p = learnerPatch({ learner: { alpha: 3, windowMs: 2000 } }, 8);
  assert.equal(p.alpha, 3);
  assert.equal(p.beta, 1);
  assert.equal(p.windowNs, 2e9);
  assert.equal(p.cpus, 8);
  assert.equal(learnerPatch({ learner: { mode: 'artifact' } }, 8).alpha, 1);
});

test('SIGHUP with a changed α: the next generation has it, at once, without a detach; SIGTERM detaches and exits 0', async () => {
  const h = harness(config(2));
  const done = h.svc.run();
  await until(() => h.logs.find((l) => l.event === 'policy' && l.generation === 1), 'generation 1');
  const m1 = await scrape(h.logs);
  assert.equal(value(m1, 'ghost_alps_policy_generation'), 1);
  assert.equal(value(m1, 'ghost_alps_policy_parameter{name="alpha"}'), 2);
  assert.equal(value(m1, 'ghost_alps_invocations_total{function="transcode"}'), 10, 'per-function counts, by name');
  assert.equal(value(m1, 'ghost_alps_learner_round_duration_seconds_count'), 1);
  assert.equal(value(m1, 'ghost_alps_scheduler_state{state="enabled"}'), 1);

  writeFileSync(h.cfg, config(3.5, 'log:\n  level: debug\n'));
  h.signals.emit('SIGHUP');
  const g2 = await until(() => h.logs.find((l) => l.event === 'policy' && l.generation === 2), 'generation 2');
  assert.equal(g2.alpha, 3.5);
  assert.equal(h.state(), 'enabled');
  assert.equal(h.fake.detaches, 0);
  const reload = h.logs.find((l) => l.event === 'reload')!;
  assert.equal(reload.result, 'ok');
  assert.deepEqual(reload.applied, ['log', 'learner']);
  const m2 = await scrape(h.logs);
  assert.equal(value(m2, 'ghost_alps_policy_parameter{name="alpha"}'), 3.5);
  assert.equal(value(m2, 'ghost_alps_config_reloads_total{result="ok"}'), 1);

  // A broken config on reload: logged once with the key, nothing changes, the agent keeps running.
  writeFileSync(h.cfg, config(3.5, 'bogus: 1\n'));
  h.signals.emit('SIGHUP');
  const bad = await until(() => h.logs.find((l) => l.event === 'reload' && l.result === 'error'), 'failed reload');
  assert.match(String(bad.err), /agent.yaml:10: bogus: unknown key/);
  assert.equal(h.logs.filter((l) => l.event === 'policy').length, 2);

  h.signals.emit('SIGTERM');
  assert.equal(await done, 0);
  assert.equal(h.fake.detaches, 1);
  assert.equal(h.fake.attaches, 1);
  const events = h.logs.map((l) => l.event).filter((e) => e !== 'learner-round');
  assert.deepEqual(events, ['metrics', 'attach', 'policy', 'policy', 'reload', 'reload', 'stop', 'detach']);
  assert.equal(h.logs.find((l) => l.event === 'detach')!.state, 'disabled');
  assert.deepEqual(h.notes, ['READY', 'RELOADING', 'READY', 'RELOADING', 'READY', 'STOPPING']);
});

test('a changed window re-arms the agent; telemetry can be turned on by a reload', async () => {
  const h = harness(config(2));
  const done = h.svc.run();
  await until(() => h.logs.find((l) => l.event === 'policy'), 'generation 1');
  writeFileSync(h.cfg, config(2).replace('windowMs: 600000', 'windowMs: 2000') + 'telemetry: 0\n');
  h.signals.emit('SIGHUP');
  const r = await until(() => h.logs.find((l) => l.event === 'reload'), 'reload');
  assert.deepEqual(r.applied, ['telemetry', 'learner']);
  assert.deepEqual(h.fake.windows, [2e9]);
  assert.match(String(h.logs.find((l) => l.event === 'telemetry')?.url), /^ws:\/\/127\.0\.0\.1:\d+$/);
  h.signals.emit('SIGTERM');
  assert.equal(await done, 0);
});

test('ghOSt backend through the service: config → the backend\'s flags; its statistics become metrics; SIGTERM stops it', async () => {
  const { ghostArgsFromConfig } = await import('../../../src/service/ghost.js');
  const { cpuCount } = await import('../../../src/service/run.js');
  assert.equal(cpuCount('0-3,6'), 5);
  const args = ghostArgsFromConfig({ backend: 'ghost', learn: true, ghost: { cpus: '0-3', policy: 'cfs', destroyOnExit: true } }, { 'slice-ms': 3, registry: '/run/r' });
  assert.deepEqual(
    { cpus: args.cpus, policy: args.policy, destroy: args['destroy-on-exit'], learn: args.learn, timeout: args['runnable-timeout-ms'], registry: args.registry },
    { cpus: '0-3', policy: 'cfs', destroy: true, learn: true, timeout: 2000, registry: '/run/r' },
  );
  const h = harness('backend: ghost\nlearn: true\nmetrics: 127.0.0.1:0\nghost:\n  cpus: "0-4"\n');
  let stopped = false;
  let checked = false;
  const svc = new AgentService(
    h.cfg,
    {},
    explicitFlags([]),
    {
      runScx: () => Promise.reject(new Error('not this backend')),
      scxState: () => undefined,
      startScxTelemetry,
      notifier: { socket: undefined, notify: async () => false, close: () => undefined },
      logger: createLogger({ stream: new Writable({ write: (c, _e, cb) => (h.logs.push(...String(c).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)), cb()) }), pretty: false }),
      signals: h.signals as unknown as ServiceDeps['signals'],
      runGhost: async (_cfg, hooks) => {
        assert.equal(hooks.learner?.params.cpus, 4, 'the learner models the enclave minus the spinning CPU');
        const stoppedP = new Promise<void>((r) => hooks.onStop(() => ((stopped = true), r())));
        hooks.onReady({ enclaveId: 3, abi: 91, cpus: [0, 1, 2, 3, 4] });
        hooks.onStats({ decisions: 100, failures: { ESTALE: 1 }, preemptions: 0, messages: 0, overflows: 0, records: 0 });
        hooks.onStats({ decisions: 350, failures: { ESTALE: 4 }, preemptions: 0, messages: 0, overflows: 0, records: 0 });
        const s = await scrape(h.logs);
        assert.equal(value(s, 'ghost_alps_agent_decisions_total'), 350);
        assert.equal(value(s, 'ghost_alps_agent_failed_transactions_total{reason="ESTALE"}'), 4);
        assert.equal(value(s, 'ghost_alps_scheduler_state{state="attached"}'), 1);
        checked = true;
        await stoppedP;
        return 0;
      },
    },
  );
  const done = svc.run();
  await until(() => (checked ? true : undefined), 'the metrics checks');
  h.signals.emit('SIGTERM');
  assert.equal(await done, 0);
  assert.ok(stopped);
  assert.equal(h.logs.find((l) => l.event === 'detach')?.backend, 'ghost');
});
