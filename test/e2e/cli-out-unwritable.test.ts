/**
 * Issue 15: `--out` somewhere the CLI cannot write fails before any work, for every command that
 * takes it (simulate, compare, reproduce), with one line naming the path and the problem, and
 * leaves nothing behind. Permission problems exit 5. We run as root, whom permission bits do not
 * stop, so the permission cases use what stops root too — an immutable directory (chattr +i,
 * EPERM) — and, as a second case, the CLI run as another user (setpriv) under a root-owned
 * directory (EACCES). A path under a regular file or on procfs is a bad value (exit 3).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hasControlChars } from '../../src/core/terminal.js';
import { cliArgv, collect, ROOT } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'alps-out-'));
chmodSync(dir, 0o755); // another user must be able to reach the directories inside
const immutable = join(dir, 'immutable');
mkdirSync(immutable);
/** chattr +i worked: root itself gets EPERM creating anything inside. */
const immutableOk = process.platform === 'linux' && spawnSync('chattr', ['+i', immutable]).status === 0;
after(() => {
  if (immutableOk) spawnSync('chattr', ['-i', immutable]);
  rmSync(dir, { recursive: true, force: true });
});
const state = join(dir, 'state');
mkdirSync(state);

const isRoot = process.getuid?.() === 0;
const setpriv = '/usr/bin/setpriv';
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
/**
 * Whether the CLI runs at all as uid 65534: a checkout under a private home (e.g. /root, mode
 * 0700) is unreadable to it, and then the case cannot be asked, only skipped.
 */
function nobodyCanRunCli(): boolean {
  if (!isRoot || !existsSync(setpriv)) return false;
  const [node, ...pre] = cliArgv();
  return spawnSync(setpriv, [...NOBODY, node!, ...pre, '--version'], { cwd: '/', env: { ...process.env, HOME: '/tmp' }, timeout: 60_000 }).status === 0;
}
const asNobody = nobodyCanRunCli();

/** Each command that takes --out, with flags that would make it do real work if --out were not checked first. */
const COMMANDS: Array<{ name: string; args: string[] }> = [
  { name: 'simulate', args: ['simulate', '--invocations', '15000', '--schedulers', 'cfs,alps'] },
  { name: 'compare', args: ['compare', '--real', '--invocations', '100'] },
  { name: 'reproduce', args: ['reproduce', '--invocations', '3000', '--only', 'acceptance'] },
];

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The CLI, optionally under setpriv with `priv` (another uid). */
async function cli(args: string[], priv?: string[]): Promise<Run> {
  const [node, ...pre] = cliArgv();
  const env = { ...process.env, GHOST_ALPS_STATE_DIR: state, HOME: '/tmp' };
  const child = priv
    ? spawn(setpriv, [...priv, node!, ...pre, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(node!, [...pre, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child);
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const r = await done;
  clearTimeout(timer);
  return r;
}

/** Exit `code`; stderr one line (plus a hint) matching `re`, no stack, no control characters; nothing on stdout. */
function refused(r: Run, code: number, re: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, stderr: ${r.err}`);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  assert.ok(!hasControlChars(r.err, { allowNewlines: true }), JSON.stringify(r.err));
  assert.ok(r.err.trim().split('\n').length <= 2, `one line: ${r.err}`);
  assert.equal(r.out, '', 'no report printed: the run never started');
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

for (const { name, args } of COMMANDS) {
  test(`${name} --out in a directory even root cannot write (immutable): exit 5 naming the path; nothing written`, { skip: immutableOk ? false : 'chattr +i not available here' }, async () => {
    const out = join(immutable, name, 'sub');
    const r = await cli([...args, '--out', out]);
    refused(r, 5, new RegExp(`permission denied: --out ${esc(out)}: ${esc(immutable)} is not writable`));
    assert.deepEqual(readdirSync(immutable), [], 'no directory or file was created');
  });

  test(`${name} --out under a root-owned directory, run as another user: exit 5 naming the path; nothing written`, { skip: asNobody ? false : 'needs root, setpriv and a checkout uid 65534 can read' }, async () => {
    const parent = join(dir, `root-owned-${name}`);
    mkdirSync(parent, { mode: 0o755 });
    const out = join(parent, 'a', 'b');
    const r = await cli([...args, '--out', out], NOBODY);
    refused(r, 5, new RegExp(`permission denied: --out ${esc(out)}: ${esc(parent)} is not writable by this user`));
    assert.deepEqual(readdirSync(parent), []);
  });

  test(`${name} --out under a regular file (ENOTDIR) or on procfs: bad input (exit 3) naming the path; nothing written`, async () => {
    const file = join(dir, `file-${name}`);
    writeFileSync(file, 'keep');
    refused(await cli([...args, '--out', join(file, 'sub')]), 3, new RegExp(`--out: ${esc(file)} exists and is not a directory`));
    assert.equal(readFileSync(file, 'utf8'), 'keep', 'the file is untouched');
    refused(await cli([...args, '--out', `/proc/alps-${name}`]), 3, new RegExp(`--out: /proc/alps-${name} is on procfs`));
    assert.equal(existsSync(`/proc/alps-${name}`), false);
  });
}
