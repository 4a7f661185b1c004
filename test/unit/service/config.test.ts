import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/core/errors.js';
import { ConfigError, explicitFlags, loadConfig, mergeFlags, parseConfig, parseListen } from '../../../src/service/config.js';
import { exampleConfigPath } from '../../../src/service/systemd.js';
import { projectRoot } from '../../../src/vm/index.js';

const problems = (text: string): { key: string; line: number; problem: string }[] => {
  try {
    parseConfig(text, 'c.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.ok(e instanceof InputError, 'exit 3 through the CLI');
    return e.problems;
  }
  assert.fail('accepted');
};

test('the shipped example config is valid', () => {
  const c = loadConfig(exampleConfigPath());
  assert.equal(c.backend, 'scx');
  assert.equal(c.learner?.alpha, 2);
  assert.equal(c.metrics, '127.0.0.1:9464');
});

test('an unknown key is named with its dotted path and line, with the allowed keys', () => {
  const p = problems('backend: scx\nlearn: true\nlearner:\n  alpha: 3\n  alpah: 3\n');
  assert.equal(p.length, 1);
  assert.equal(p[0]!.key, 'learner.alpah');
  assert.equal(p[0]!.line, 5);
  assert.match(p[0]!.problem, /unknown key \(allowed here: alpha, beta/);
});

test('every problem is reported, each with its line: types, ranges, enums', () => {
  const p = problems('backend: bpf\nlearner:\n  alpha: -1\n  windowMs: "5s"\nsliceMs: 0\nmetrics: localhost\n');
  const byKey = new Map(p.map((x) => [x.key, x]));
  assert.equal(byKey.get('backend')?.line, 1);
  assert.match(byKey.get('backend')!.problem, /scx \| ghost/);
  assert.equal(byKey.get('learner.alpha')?.line, 3);
  assert.equal(byKey.get('learner.windowMs')?.line, 4);
  assert.equal(byKey.get('sliceMs')?.line, 5);
  assert.equal(byKey.get('metrics')?.line, 6);
});

test('YAML syntax errors and duplicate keys name the line', () => {
  const p = problems('backend: scx\nlearner:\n  alpha: 2\n  alpha: 3\n');
  assert.equal(p[0]!.line, 4);
  const q = problems('backend: scx\nlearner: [1, 2\n');
  assert.ok(q[0]!.line >= 2, JSON.stringify(q));
});

test('JSON is accepted as it is (YAML 1.2 superset)', () => {
  const c = parseConfig('{"backend": "ghost", "ghost": {"cpus": "0-3", "policy": "cfs"}}', 'c.json');
  assert.equal(c.ghost?.policy, 'cfs');
});

test('only flags the user typed override the file; yargs defaults do not', () => {
  const file = parseConfig('backend: scx\nsliceMs: 7\nlearn: true\nmetrics: 127.0.0.1:9464\n', 'c.yaml');
  const argv = { 'slice-ms': 3, learn: false, json: false, metrics: '0.0.0.0:1234', telemetry: 8089 };
  const given = explicitFlags(['agent', '--config', 'c.yaml', '--metrics=0.0.0.0:1234', '--telemetry', '8089', '--', '--slice-ms']);
  assert.deepEqual([...given].sort(), ['config', 'metrics', 'telemetry']);
  const c = mergeFlags(file, argv, given);
  assert.equal(c.sliceMs, 7, 'default --slice-ms 3 does not hide the file value');
  assert.equal(c.learn, true);
  assert.equal(c.metrics, '0.0.0.0:1234');
  assert.equal(c.telemetry, 8089);
  assert.equal(mergeFlags(file, { ghost: true }, new Set(['ghost'])).backend, 'ghost');
  assert.equal(mergeFlags(file, { learn: false }, explicitFlags(['--no-learn'])).learn, false);
});

test('HOST:PORT', () => {
  assert.deepEqual(parseListen('127.0.0.1:9464', 'x'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:0', 'x'), { host: '::1', port: 0 });
  assert.throws(() => parseListen('9464', '--metrics'), /--metrics: '9464' is not HOST:PORT/);
  assert.throws(() => parseListen('h:99999', '--metrics'), InputError);
});

test('CLI: a bad config key fails with exit 3 naming the key and its line; --metrics alone is validated too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const bad = join(dir, 'agent.yaml');
  writeFileSync(bad, 'backend: scx\nlearn: true\nlearner:\n  alpah: 3\n');
  const main = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
  const r = spawnSync(process.execPath, [main, 'agent', '--config', bad], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`config ${bad}:4: learner\\.alpah: unknown key`));
  // Logged once, as one structured line (stderr is not a TTY here).
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  const o = JSON.parse(lines[0]!) as { event: string; exitCode: number; problems: { key: string; line: number }[] };
  assert.equal(o.event, 'error');
  assert.equal(o.exitCode, 3);
  assert.deepEqual(o.problems.map((p) => [p.key, p.line]), [['learner.alpah', 4]]);
  const c = spawnSync(process.execPath, [main, 'service', 'check-config', bad], { encoding: 'utf8' });
  assert.equal(c.status, 3, c.stderr);
  assert.match(c.stderr, /learner\.alpah/);
  const m = spawnSync(process.execPath, [main, 'agent', '--scx', '--metrics', 'nope'], { encoding: 'utf8' });
  assert.equal(m.status, 3, m.stderr);
  assert.match(m.stderr, /--metrics: 'nope' is not HOST:PORT/);
});
