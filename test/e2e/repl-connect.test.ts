import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect, firstLine, runCli } from './cli.js';

test('scripted REPL over the socket: connect, read the policy, change α, see the next generation carry it', { timeout: 120_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), 'alps-repl-'));
  const env = { GHOST_ALPS_STATE_DIR: state };
  const server = runCli(['dashboard', '--sim', 'huawei', '--invocations', '12000', '--ws-port', '0', '--port', '0', '--interval', '150', '--json'], env);
  try {
    const info = JSON.parse(await firstLine(server)) as { page: string; ws: string; tokenFile: string };
    assert.match(info.ws, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(statSync(info.tokenFile).mode & 0o777, 0o600);
    const repl = runCli(['repl', '--connect', info.ws], env);
    const done = collect(repl);
    repl.stdin!.end(['.next', '.policy', '.set alpha 3', '.next', 'policy.params.alpha', '.top', '.snapshot'].join('\n') + '\n');
    const { code, out, err } = await done;
    assert.equal(code, 0, err);
    assert.match(out, /connected to ws:\/\/127\.0\.0\.1:\d+: sim .*control enabled/);
    assert.match(out, /generation \d+ installed at [\d.]+ s: α=2 /, '.policy shows the current generation');
    const set = /ok: alpha=3 applies from the next generation \(after (\d+)\)/.exec(out);
    assert.ok(set, out);
    const gens = [...out.matchAll(/generation (\d+)(?: installed at [\d.]+ s)?: α=(\d+(?:\.\d+)?) /g)].map((m) => ({ gen: Number(m[1]), alpha: Number(m[2]) }));
    const last = gens.at(-1)!;
    assert.ok(last.gen > Number(set[1]), `a later generation arrived: ${JSON.stringify(gens)}`);
    assert.equal(last.alpha, 3);
    assert.match(out, /alps> 3\n/);
    assert.match(out, /"params": \{\n\s+"alpha": 3,/);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  // The run's token file goes away with the run.
  const left = existsSync(state) ? (await import('node:fs')).readdirSync(state).filter((f) => f.endsWith('.token')) : [];
  assert.deepEqual(left, []);
  rmSync(state, { recursive: true, force: true });
});

test('without the token the REPL is read-only and says so', { timeout: 120_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), 'alps-repl-'));
  const server = runCli(['dashboard', '--sim', 'huawei', '--invocations', '4000', '--ws-port', '0', '--port', '0', '--interval', '100', '--json'], { GHOST_ALPS_STATE_DIR: state });
  try {
    const info = JSON.parse(await firstLine(server)) as { ws: string };
    const other = mkdtempSync(join(tmpdir(), 'alps-repl-other-'));
    const repl = runCli(['repl', '--connect', info.ws], { GHOST_ALPS_STATE_DIR: other });
    const done = collect(repl);
    repl.stdin!.end('.set alpha 3\n.pause\n');
    const { code, out } = await done;
    assert.equal(code, 0);
    assert.match(out, /read-only \(no token\)/);
    assert.match(out, /error: control token: none known/);
    const bad = runCli(['repl', '--connect', info.ws, '--token', 'wrong'], { GHOST_ALPS_STATE_DIR: other });
    const badDone = collect(bad);
    bad.stdin!.end('.pause\n');
    const badRun = await badDone;
    assert.match(badRun.out, /error: server \(unauthorized\): wrong control token/, `stderr: ${badRun.err}`);
    rmSync(other, { recursive: true, force: true });
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(state, { recursive: true, force: true });
  }
});
