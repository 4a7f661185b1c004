/**
 * `ghost-alps agent --config` as a service on a real sched_ext kernel (Debian 7.3 under qemu, 2
 * vCPUs): one boot runs fixtures/guest-service.ts (config file, sd_notify receiver, two trace
 * replays, SIGHUP with a new α, SIGTERM) and each test below checks one part of its output.
 * The /metrics scrapes taken in the guest are checked on the host with `promtool check metrics`.
 * Skips with the reason when the VM or the scheduler build is missing.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, vmAvailability, type VmRunResult } from '../../../src/vm/index.js';
import { runGuestSession } from '../../support/guest.js';

const root = projectRoot();
const build = join(root, 'ghost-kernel', 'bpf', 'build');
const guestJs = join(root, 'dist', 'test', 'kernel', 'service', 'fixtures', 'guest-service.js');

async function skipReason(): Promise<string | false> {
  const vm = await vmAvailability();
  if (!vm.ok) return vm.reason;
  for (const f of ['alps.bpf.o', 'profile.bpf.o', 'alps-invoke']) {
    if (!existsSync(join(build, f))) return `${join(build, f)} not built (make -C ghost-kernel/bpf; needs .cache/vm/kernel/vmlinux.btf)`;
  }
  if (!existsSync(guestJs)) return `${guestJs} missing (npx tsc -p tsconfig.json)`;
  return false;
}
const skip = await skipReason();
const promtool = spawnSync('promtool', ['--version']).status === 0;

let run: VmRunResult | undefined;
const sections = new Map<string, string[]>();
interface Summary {
  error?: string;
  readyState: string;
  gen1: number;
  gen2: number;
  alpha1: number;
  alpha2: number;
  reload: { result: string; changed: string[]; applied: string[] };
  newGen: { generation: number; alpha: number };
  statesBeforeTerm: string[];
  exitCode: number | null;
  stateAfter: string;
  replay1: { expected: number; reported: number; ok: number };
  replay2: { expected: number; reported: number; ok: number };
  notes: string[];
  events: string[];
  attach?: { state: string };
  detach?: { state: string };
}
let s: Summary;

before(async () => {
  if (skip) return;
  const r = await runGuestSession({ command: ['node', guestJs.replace(root, '/project')], cpus: 2, timeoutMs: 400_000 });
  run = r.run;
  for (const [k, v] of r.sections) sections.set(k, v);
  const sum = sections.get('summary')?.find((l) => l.startsWith('{'));
  assert.ok(sum, `no summary; stdout:\n${run.stdout}\nstderr:\n${run.stderr}\nconsole tail:\n${run.console.slice(-3000)}`);
  s = JSON.parse(sum) as Summary;
  assert.equal(s.error, undefined, `guest run failed: ${s.error}\nstderr:\n${run.stderr.slice(-3000)}`);
});

const T = { skip, timeout: 420_000 };
const metricsText = (name: string): string => `${(sections.get(name) ?? []).join('\n')}\n`;
const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : NaN;
};

test('the agent starts from the config file and signals readiness over NOTIFY_SOCKET once sched_ext is enabled', T, (t) => {
  t.diagnostic(`notify datagrams: ${JSON.stringify(s.notes)}; state at READY: ${s.readyState}; events: ${s.events.join(',')}`);
  assert.ok(s.notes.some((n) => /^READY=1$/m.test(n)), JSON.stringify(s.notes));
  assert.equal(s.readyState, 'enabled');
  assert.equal(s.attach?.state, 'enabled');
  assert.ok(s.events.includes('metrics') && s.events.includes('attach'), s.events.join(','));
});

test('/metrics after a trace replay: promtool accepts it; ≥ 1 policy generation; per-function invocation counts', { ...T, skip: skip || (promtool ? false : 'promtool not installed (apt-get install prometheus)') }, (t) => {
  for (const name of ['metrics1', 'metrics2']) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: metricsText(name), encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check metrics (${name}): ${r.stdout}${r.stderr}`);
    t.diagnostic(`promtool check metrics (${name}, ${metricsText(name).length} bytes): exit ${r.status}${r.stdout || r.stderr ? `: ${r.stdout}${r.stderr}` : ''}`);
  }
  const m = metricsText('metrics1');
  for (const l of m.split('\n').filter((x) => /^ghost_alps_(invocations_total|policy_generation |policy_parameter\{name="alpha"|scheduler_state\{state="enabled"|learner_round_duration_seconds_count|profiler_(events|dropped)_total|turnaround_seconds_count)/.test(x))) t.diagnostic(`scrape 1: ${l}`);
  assert.ok(s.gen1 >= 1, `generation ${s.gen1}`);
  const counts = ['thumbnail', 'resize', 'transcode'].map((f) => value(m, `ghost_alps_invocations_total{function="${f}"}`));
  assert.ok(counts.every((c) => c >= 1), `per-function counts ${counts}`);
  assert.equal(counts.reduce((a, b) => a + b, 0), s.replay1.expected, `every invocation of replay 1 counted once: ${counts}`);
  assert.ok(value(m, 'ghost_alps_turnaround_seconds_count{function="transcode"}') >= 1);
  assert.ok(value(m, 'ghost_alps_cpu_seconds_total{function="transcode"}') > 0);
  assert.equal(value(m, 'ghost_alps_scheduler_state{state="enabled"}'), 1);
  assert.ok(value(m, 'ghost_alps_learner_round_duration_seconds_count') >= 1);
  assert.ok(value(m, 'ghost_alps_profiler_events_total') > 0);
  assert.equal(value(m, 'ghost_alps_profiler_dropped_total'), 0);
});

test('SIGHUP with a changed α: the next generation carries it and the scheduler never detaches', T, (t) => {
  t.diagnostic(`before SIGHUP: generation ${s.gen1}, alpha ${s.alpha1}; reload log: ${JSON.stringify(s.reload)}`);
  t.diagnostic(`first policy log after SIGHUP with alpha 3.5: ${JSON.stringify(s.newGen)}; scrape 2: generation ${s.gen2}, alpha ${s.alpha2}`);
  t.diagnostic(`sched_ext states sampled every 20 ms from READY to SIGTERM: ${JSON.stringify(s.statesBeforeTerm)}`);
  assert.equal(s.reload.result, 'ok');
  assert.ok(s.reload.applied.includes('learner'), JSON.stringify(s.reload));
  assert.equal(s.alpha1, 2);
  assert.equal(s.newGen.alpha, 3.5);
  assert.ok(s.newGen.generation > s.gen1, `generation ${s.newGen.generation} after ${s.gen1}`);
  assert.equal(s.alpha2, 3.5);
  assert.ok(s.gen2 >= s.newGen.generation);
  assert.deepEqual(s.statesBeforeTerm, ['enabled'], 'sched_ext state sampled every 20 ms from READY to SIGTERM');
  assert.ok(!s.events.slice(0, s.events.indexOf('stop')).includes('detach'), s.events.join(','));
});

test('SIGTERM: detach, state disabled, exit 0, and every invocation of both replays completes', T, (t) => {
  t.diagnostic(`agent exit code ${s.exitCode}; state after: ${s.stateAfter}; detach log: ${JSON.stringify(s.detach)}; replay 1 ${JSON.stringify(s.replay1)}; replay 2 ${JSON.stringify(s.replay2)}`);
  assert.equal(s.exitCode, 0);
  assert.equal(s.stateAfter, 'disabled');
  assert.equal(s.detach?.state, 'disabled');
  assert.deepEqual(s.replay1, { expected: s.replay1.expected, reported: s.replay1.expected, ok: s.replay1.expected });
  assert.deepEqual(s.replay2, { ...s.replay2, reported: s.replay2.expected, ok: s.replay2.expected });
  assert.ok(s.notes.some((n) => /^STOPPING=1$/m.test(n)), JSON.stringify(s.notes));
});
