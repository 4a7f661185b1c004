/**
 * Regression tests for the hardening findings (issue 15) and the CLI consistency items (issue 9):
 * each runs the real CLI in a child process and checks the exit code, that stderr is one clear
 * line (no stack), and what was left behind. Every case here failed before its fix.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hasControlChars } from '../../src/core/terminal.js';
import { TelemetryServer } from '../../src/telemetry/server.js';
import { generateToken } from '../../src/telemetry/token.js';
import { collect, runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'alps-harden-'));
const state = mkdtempSync(join(tmpdir(), 'alps-harden-state-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
});
const env = { GHOST_ALPS_STATE_DIR: state };

interface Run {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

async function cli(args: string[], opts: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const t0 = performance.now();
  const child = runCli(args, { ...env, ...opts.env });
  const done = collect(child);
  child.stdin!.end(opts.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const r = await done;
  clearTimeout(timer);
  return { ...r, ms: performance.now() - t0 };
}

/** Exit `code`, stderr one line naming `re`, no stack trace, no raw control characters. */
function refused(r: Run, code: number, re: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, stderr: ${r.err}`);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  assert.ok(!hasControlChars(r.err, { allowNewlines: true }), `raw control characters in ${JSON.stringify(r.err)}`);
  assert.ok(r.err.trim().split('\n').length <= 2, `one line (plus the usage hint): ${r.err}`);
}

const tokenFiles = (): string[] => (existsSync(state) ? readdirSync(state).filter((f) => f.endsWith('.token')) : []);

function busyPort(): Promise<{ port: number; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

test('usage errors exit 2: no backend, two backends, compare without --real, unknown, missing, repeated and empty flags', async () => {
  refused(await cli(['agent']), 2, /agent needs a backend: --ghost .* or --scx/);
  refused(await cli(['agent', '--ghost', '--scx']), 2, /--ghost and --scx cannot be used together/);
  refused(await cli(['compare']), 2, /pass --real/);
  refused(await cli(['simulate', '--bogus', '1']), 2, /Unknown argument: bogus/);
  refused(await cli(['learn']), 2, /Missing required argument: trace/);
  refused(await cli(['learn', '--trace', 'a', '--trace', 'b']), 2, /--trace was given 2 times/);
  refused(await cli(['simulate', '--schedulers', 'x', '--schedulers', 'y']), 2, /--schedulers was given 2 times/);
  refused(await cli(['compare', '--real', '--schedulers', 'default', '--schedulers', 'alps-scx']), 2, /--schedulers was given 2 times/);
  refused(await cli(['repl', '--sim', 'huawei', '--token-file', '/tmp/x']), 2, /--token-file is for --connect/);
  refused(await cli(['repl', '--connect', 'ws://127.0.0.1:1', '--cpus', '4']), 2, /--cpus shapes an embedded simulation/);
  refused(await cli(['dashboard', '--connect', 'ws://127.0.0.1:1', '--invocations', '9']), 2, /--invocations shapes an embedded simulation/);
});

test('wrong-typed and out-of-range numbers name the value and the bound (exit 3, no stack)', async () => {
  refused(await cli(['learn', '--trace', '-', '--alpha', 'abc']), 3, /--alpha: expected a number, got 'abc'/);
  const big = await cli(['simulate', '--invocations', '1e9']);
  refused(big, 3, /--invocations: must be an integer in 1\.\.1000000, got 1000000000/);
  refused(await cli(['compare', '--real', '--invocations', '1e12']), 3, /--invocations: must be an integer in 20\.\.100000/);
  refused(await cli(['agent', '--scx', '--policy-log', '/nonexistent-dir/p.jsonl']), 3, /--policy-log \/nonexistent-dir\/p\.jsonl: ENOENT/);
  refused(await cli(['agent', '--ghost', '--create', '--cpus', '0-99999999']), 3, /--cpus: CPU 99999999 is beyond the largest CPU id Linux supports \(8191\)/);
  refused(await cli(['agent', '--ghost', '--cpus', '0-9999999']), 3, /--cpus: CPU 9999999/);
  refused(await cli(['agent', '--ghost', '--create', '--cpus', '0-3', '--runnable-timeout-ms', '0']), 3, /--runnable-timeout-ms: must be in 1\.\.3600000 for --ghost/);
  refused(await cli(['dashboard', '--sim', 'huawei', '--host', '256.1.1.1']), 3, /--host: '256\.1\.1\.1' is not an IP address/);
  refused(await cli(['dashboard', '--sim', 'huawei', '--port', '70000']), 3, /--port: must be an integer in 0\.\.65535, got 70000/);
  assert.deepEqual(tokenFiles(), []);
});

test('an empty --host is refused (it would bind every interface) and leaves no token file', async () => {
  refused(await cli(['repl', '--sim', 'huawei', '--listen', '0', '--host', '']), 2, /--host needs a value \(an empty host would mean every interface/);
  refused(await cli(['dashboard', '--sim', 'huawei', '--ws-port', '0', '--port', '0', '--host', '']), 2, /--host needs a value/);
  assert.deepEqual(tokenFiles(), []);
});

test('a failed start removes its token file: port in use (exit 1, one line), bad α', async () => {
  const busy = await busyPort();
  try {
    const r = await cli(['dashboard', '--sim', 'huawei', '--ws-port', '0', '--port', String(busy.port), '--json']);
    refused(r, 1, /EADDRINUSE.*\(the port is in use: pick another one, or 0 for any free port\)/);
    assert.deepEqual(tokenFiles(), [], 'the telemetry socket was up with a token file when the page failed');
    refused(await cli(['repl', '--sim', 'huawei', '--listen', String(busy.port)]), 1, /EADDRINUSE/);
  } finally {
    busy.server.close();
  }
  refused(await cli(['dashboard', '--sim', 'huawei', '--ws-port', '0', '--port', '0', '--alpha', '-1']), 3, /--alpha: must be ≥ 0, got -1/);
  refused(await cli(['repl', '--sim', 'huawei', '--listen', '0', '--alpha', '-1']), 3, /--alpha/);
  assert.deepEqual(tokenFiles(), []);
});

test('--trace - reads stdin; learn --trace DIR names the directory', async () => {
  const rec = '{"funcId":2,"arrivalNs":0,"endNs":12000000,"cpuNs":12000000}\n';
  const r = await cli(['learn', '--trace', '-', '--json', '--utilisation', '50'], { stdin: rec });
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as { entries: unknown[] }).entries.length, 1);
  refused(await cli(['learn', '--trace', dir]), 3, /is a directory, not a trace file/);
});

test('learn with nothing in the window says so and exits 1 with the fix', async () => {
  const rec = '{"funcId":2,"arrivalNs":0,"endNs":12000000,"cpuNs":12000000}\n';
  const r = await cli(['learn', '--trace', '-', '--now-ms', '60000'], { stdin: rec });
  refused(r, 1, /nothing to learn: no invocation of stdin completed in the window .* Widen it with --window-ms/);
  assert.equal(r.out, '', 'no empty policy printed');
});

test('one trace format round-trips: simulate --out records → learn --trace and simulate --workload', { timeout: 120_000 }, async () => {
  const out = join(dir, 'sim');
  const s = await cli(['simulate', '--invocations', '400', '--cpus', '2', '--schedulers', 'fifo', '--out', out, '--json']);
  assert.equal(s.code, 0, s.err);
  const records = join(out, 'records-fifo.jsonl');
  assert.equal(readFileSync(records, 'utf8').trim().split('\n').length, 400);
  const l = await cli(['learn', '--trace', records, '--json']);
  assert.equal(l.code, 0, l.err);
  assert.ok((JSON.parse(l.out) as { entries: unknown[] }).entries.length > 0);
  const w = await cli(['simulate', '--workload', records, '--cpus', '2', '--schedulers', 'fifo', '--json']);
  assert.equal(w.code, 0, w.err);
  const rep = JSON.parse(w.out) as { runs: { groups: Record<string, { count: number }> }[] };
  assert.equal(Object.values(rep.runs[0]!.groups).reduce((a, g) => a + g.count, 0), 400);
});

test('--out on procfs or under a file fails before any work', async () => {
  const r = await cli(['simulate', '--out', '/proc/nope', '--invocations', '15000'], { timeoutMs: 20_000 });
  refused(r, 3, /--out: \/proc\/nope is on procfs/);
  writeFileSync(join(dir, 'afile'), 'x');
  refused(await cli(['simulate', '--out', join(dir, 'afile', 'sub')]), 3, /exists and is not a directory/);
});

test('artifact traces: prototype names, huge n and 1e308 are bad input naming the column; they do not hang', async () => {
  const t = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  for (const app of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    refused(await cli(['simulate', '--workload', t(`proto-${app}`, `1 9 ${app} 20 5010\n`)]), 3, new RegExp(`column 3: unknown app "${app}"`));
  }
  const hang = await cli(['simulate', '--workload', t('fib70', '1 70 fib 20 5010\n2 9 fib 20 5010\n')], { timeoutMs: 20_000 });
  refused(hang, 3, /column 2 \(n\) = 70 makes one fib invocation cost .* the limit is 600 s \(fib n ≤ 47\)/);
  refused(await cli(['simulate', '--workload', t('fib2000', '1 2000 fib 20 5010\n')]), 3, /column 2 \(n\) = 2000/);
  refused(await cli(['simulate', '--workload', t('fib1e308', '1 1e308 fib 20 5010\n')]), 3, /column 2 \(n\) must be a non-negative integer, got "1e308"/);
});

test('terminal output escapes control characters in names and error messages', async () => {
  const evil = '\u001b]0;PWNED\u0007\u001b[2J';
  const trace = join(dir, 'evil.jsonl');
  writeFileSync(trace, `${JSON.stringify({ funcId: 2, arrivalNs: 0, endNs: 12e6, cpuNs: 12e6, name: evil })}\n`);
  const r = await cli(['learn', '--trace', trace, '--utilisation', '50']);
  assert.equal(r.code, 0, r.err);
  assert.ok(!hasControlChars(r.out, { allowNewlines: true }), JSON.stringify(r.out));
  assert.match(r.out, /\\x1b\]0;PWNED\\x07\\x1b\[2J/);
  const bad = join(dir, 'evil-key.jsonl');
  writeFileSync(bad, `${JSON.stringify({ funcId: 2, arrivalNs: 0, endNs: 1, cpuNs: 1, [evil]: 1 })}\n`);
  refused(await cli(['learn', '--trace', bad]), 3, /unknown field/);
  refused(await cli(['learn', '--trace', `x${evil}`]), 3, /cannot read/);
});

test('repl --connect: hostile names are escaped, an out-of-range policy is refused (not shown as NaN)', { timeout: 60_000 }, async () => {
  const server = await TelemetryServer.listen({ token: generateToken(), source: { kind: 'sim', name: 'evil\u001b[2J' } });
  try {
    server.functions([{ funcId: 2, name: 'f\u001b]0;PWNED\u0007', app: 'fib', group: 1 }]);
    const params = { alpha: 2, beta: 1, gamma: 1, theta: 50, windowNs: 5e9, maxRecords: 5000, model: 'avg', mode: 'paper', ioAware: false, cpus: 1, seed: 1 } as const;
    server.policy({ generation: 3, params, entries: [{ funcId: 2, rank: 1e308, sliceNs: -5 }] }, 1);
    const r = await cli(['repl', '--connect', server.url], { stdin: '.funcs\n.policy\n' });
    assert.equal(r.code, 0, r.err);
    assert.ok(!hasControlChars(r.out, { allowNewlines: true }), JSON.stringify(r.out));
    assert.match(r.out, /f\\x1b\]0;PWNED\\x07/);
    assert.match(r.out, /no policy yet/, 'the bad policy was not installed in the client');
    assert.doesNotMatch(r.out, /NaN|undefined/);
  } finally {
    await server.close();
  }
});

test('a trace without read permission exits 5', { skip: process.platform !== 'linux' ? 'linux only' : false }, async () => {
  const p = join(dir, 'secret.jsonl');
  writeFileSync(p, '{"funcId":2,"arrivalNs":0,"endNs":1,"cpuNs":1}\n');
  chmodSync(p, 0o600);
  // As root the file is readable anyway: run the CLI as nobody (setpriv) then.
  const asNobody = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
  if (process.getuid?.() === 0 && !asNobody) return;
  chmodSync(dir, 0o755);
  const args = ['learn', '--trace', p];
  const r = asNobody ? await cliAs(['--reuid=65534', '--regid=65534', '--clear-groups'], args) : (chmodSync(p, 0o000), await cli(args));
  refused(r, 5, /permission denied: .*secret\.jsonl/);
});

/** The CLI under setpriv (another uid). */
async function cliAs(priv: string[], args: string[]): Promise<Run> {
  const { spawn } = await import('node:child_process');
  const { cliArgv } = await import('./cli.js');
  const [node, ...pre] = cliArgv();
  const t0 = performance.now();
  const child = spawn('/usr/bin/setpriv', [...priv, node!, ...pre, ...args], { env: { ...process.env, ...env, HOME: '/tmp' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child);
  child.stdin!.end();
  return { ...(await done), ms: performance.now() - t0 };
}
