import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shippedUnitPath, systemdBooted, unitText } from '../../../src/service/systemd.js';
import { projectRoot } from '../../../src/vm/index.js';

const main = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('print-unit: systemd-analyze verify accepts the unit this installation would install', { skip: analyze ? false : 'systemd-analyze not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'unit-'));
  const r = spawnSync(process.execPath, [main, 'service', 'print-unit'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const unit = join(dir, 'ghost-alps.service');
  writeFileSync(unit, r.stdout);
  const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
  assert.equal(`${v.stdout}${v.stderr}`.trim(), '', 'no warnings either');
  assert.match(r.stdout, new RegExp(`^ExecStart=${process.execPath} ${main} agent --config /etc/ghost-alps/agent.yaml$`, 'm'));
  // A unit that systemd would reject is caught by the same check (the test can fail).
  writeFileSync(unit, r.stdout.replace('Type=notify', 'Type=notifyy'));
  assert.notEqual(`${spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' }).stderr}`, '');
});

test('the shipped unit: notify readiness, SIGHUP reload, SIGTERM stop, BPF-capable hardening, each hardening line explained', () => {
  const text = readFileSync(shippedUnitPath(), 'utf8');
  assert.equal(unitText({ asShipped: true }), text);
  for (const l of ['Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID', 'KillSignal=SIGTERM', 'ProtectHome=yes', 'NoNewPrivileges=yes', 'ProtectSystem=strict']) {
    assert.ok(text.split('\n').includes(l), l);
  }
  assert.match(text, /^CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_ADMIN/m);
  const lines = text.split('\n');
  const section = lines.slice(lines.findIndex((l) => l.startsWith('# --- Hardening')), lines.indexOf('[Install]'));
  const uncommented = section.filter((l, i) => /^[A-Z]/.test(l) && !section[i - 1]!.startsWith('#'));
  assert.deepEqual(uncommented, [], 'every hardening option that could break BPF says why it is there');
});

test('service install refuses clearly on a host without systemd (exit 4)', { skip: systemdBooted() ? 'this host runs systemd: not installing for real in a test' : false }, () => {
  const r = spawnSync(process.execPath, [main, 'service', 'install'], { encoding: 'utf8' });
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /not running systemd.*print-unit/);
});
