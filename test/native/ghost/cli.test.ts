import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../../../src/core/errors.js';
import { createClient, createEmulator } from '../../../src/native/ghost.js';
import { ghostPreflight, PermissionError } from '../../../src/agent/ghost/host-setup.js';
import { funcIdOfName, ProcResolver, registerLaunch, StaticResolver } from '../../../src/workload/funcs.js';
import { nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();
const here = fileURLToPath(new URL('.', import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const main = join(here, '../../../src/cli', `main${ext}`);

function cli(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), main, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

test('preflight: missing ghostfs, unsupported ABI and missing CAP_SYS_NICE are distinct, clear errors', { skip }, () => {
  assert.throws(() => ghostPreflight(createClient({ root: '/nonexistent/ghost' }), undefined, '/nonexistent/ghost'), (e: unknown) =>
    e instanceof UnsupportedError && /not a ghOSt kernel/.test(e.message),
  );
  const old = createClient({ emulator: createEmulator({ cpus: 2, versions: [69, 75] }), pid: 1 });
  assert.throws(() => ghostPreflight(old), (e: unknown) => e instanceof UnsupportedError && /offers ABI 69, 75/.test(e.message));
  const ok = createClient({ emulator: createEmulator({ cpus: 2, versions: [84, 90] }), pid: 1 });
  assert.equal(ghostPreflight(ok), 90);
  assert.equal(ghostPreflight(ok, 84), 84);
  assert.throws(() => ghostPreflight(ok, 91), (e: unknown) => e instanceof UnsupportedError && /offers ABI 84, 90/.test(e.message));
  const noCap = createClient({ emulator: createEmulator({ cpus: 2, capSysNice: false }), pid: 1 });
  assert.throws(() => ghostPreflight(noCap), (e: unknown) => e instanceof PermissionError && /CAP_SYS_NICE/.test(e.message));
});

test('cli: `agent --ghost` without a ghOSt kernel exits 4 and says why; bad flags exit 3', { skip }, () => {
  const r = cli(['agent', '--ghost', '--create', '--cpus', '0-3', '--ghostfs', '/nonexistent/ghost']);
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /not a ghOSt kernel/);
  const bad = cli(['agent', '--ghost', '--cpus', '3-1']);
  assert.equal(bad.status, 3, bad.stderr);
  assert.match(bad.stderr, /--cpus: range 3-1 is backwards/);
});

test('cli: `exec` tags the launcher in the registry, passes the exit status through and cleans up', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alps-reg-'));
  try {
    const r = cli(['exec', '--func', 'fib', '--registry', dir, '--ghostfs', '/nonexistent/ghost', '--', 'sh', '-c', `ls ${dir}; exit 3`]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /^\d+$/m, 'the registry held the launcher pid while the command ran');
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('funcs: registry resolution walks to the nearest registered ancestor; names hash to stable ids', () => {
  assert.equal(funcIdOfName('fib'), funcIdOfName('fib'));
  assert.notEqual(funcIdOfName('fib'), funcIdOfName('bfs'));
  const s = new StaticResolver();
  const id = s.register(10, 'fib');
  s.setParent(11, 10);
  s.setParent(12, 11);
  assert.equal(s.resolve(12), id);
  assert.equal(s.resolve(99), 0);
  const dir = mkdtempSync(join(tmpdir(), 'alps-reg-'));
  try {
    registerLaunch(process.pid, 'resize', dir);
    const p = new ProcResolver(dir);
    assert.equal(p.resolve(process.pid), funcIdOfName('resize'));
    assert.equal(p.nameOf(funcIdOfName('resize')), 'resize');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
