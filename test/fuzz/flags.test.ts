/**
 * Hostile command lines for every command, run in-process through the real parser (main.ts's
 * buildParser, with its middleware and yargs' strict checks) and each command's `check` — the
 * flag validation its handler runs first — but never a handler. Then a sample end to end through
 * the real binary, which must agree with the in-process verdict.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { Argv } from 'yargs';
import { commands } from '../../src/cli/commands/index.js';
import { exitCodeOf, formatError, UsageError } from '../../src/cli/errors.js';
import { buildParser, normaliseArgv, type CliCommand } from '../../src/cli/program.js';
import { hasControlChars } from '../../src/core/terminal.js';
import { collect, runCli } from '../e2e/cli.js';

const state = mkdtempSync(join(tmpdir(), 'alps-fuzz-flags-'));
process.env['GHOST_ALPS_STATE_DIR'] = state;
after(() => rmSync(state, { recursive: true, force: true }));

/** Flags per command (and subcommand), as their builders declare them. */
const FLAGS: Record<string, string[]> = {
  simulate: ['workload', 'cpus', 'load', 'invocations', 'schedulers', 'seed', 'arrivals', 'io-aware', 'hz', 'ctx-switch-us', 'ms-per-unit', 'out', 'json'],
  learn: ['trace', 'format', 'model', 'alpha', 'beta', 'gamma', 'theta', 'window-ms', 'cpus', 'io-aware', 'mode', 'utilisation', 'now-ms', 'quantum-ms', 'max-slice-ms', 'max-records', 'rank-by', 'rank-class-ratio', 'stacking', 'monotone-cap', 'seed', 'json'],
  reproduce: ['out', 'seed', 'invocations', 'only', 'json'],
  'vm info': ['json'],
  'vm run': ['cpus', 'mem', 'timeout', 'accel', 'clock', 'file', 'env', 'json'],
  repl: ['sim', 'cpus', 'load', 'invocations', 'seed', 'scheduler', 'step', 'alpha', 'connect', 'token', 'token-file', 'listen', 'host'],
  dashboard: ['sim', 'cpus', 'load', 'invocations', 'seed', 'scheduler', 'step', 'alpha', 'connect', 'port', 'host', 'ws-port', 'token', 'interval', 'json'],
  agent: ['ghost', 'scx', 'enclave', 'create', 'cpus', 'global-cpu', 'policy', 'learn', 'policy-file', 'abi', 'runnable-timeout-ms', 'slice-ms', 'registry', 'cgroup-map', 'destroy-on-exit', 'json', 'telemetry', 'config', 'metrics'],
  exec: ['func', 'enclave', 'registry'],
  compare: ['real', 'schedulers', 'workload', 'invocations', 'load', 'cpus', 'seed', 'scale', 'calibrate', 'with-sim', 'json', 'out'],
  'service check-config': ['json'],
};

const HOSTILE_VALUES = [
  '', '-', '--', 'abc', 'NaN', 'Infinity', '-Infinity', '-1', '0', '1', '2', '0.5', '1e308', '1e9', '1e12', '-0', '0x10', '9007199254740993',
  '__proto__', 'constructor', 'toString', 'huawei', 'azure', 'ws://127.0.0.1:1', 'ws://', '256.1.1.1', '::1', '0-99999999', '0-3', '3-0',
  '/proc/nope', '/nonexistent/x', '/tmp', '\u001b]0;PWNED\u0007\u001b[2J', 'a\nb', '\u202eevil', 'x'.repeat(5000), 'cfs,cfs', 'alps:io-aware',
];

const token = fc.oneof(
  fc.constantFrom(...HOSTILE_VALUES),
  fc.string({ maxLength: 12 }),
  fc.double().map(String),
  fc.integer().map(String),
);

/** One command line: command, then flags (some repeated, some unknown) with hostile values. */
const argvArb = fc.constantFrom(...Object.keys(FLAGS)).chain((cmd) =>
  fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...FLAGS[cmd]!), token, fc.boolean()).map(([f, v, eq]) => (eq ? [`--${f}=${v}`] : [`--${f}`, v])) },
        { weight: 2, arbitrary: fc.constantFrom(...FLAGS[cmd]!).map((f) => [`--${f}`]) },
        { weight: 1, arbitrary: token.map((t) => [t]) },
        { weight: 1, arbitrary: fc.constantFrom('--bogus', '--no-json', '--help', '-h', '--version', '--__proto__', '--constructor').map((f) => [f]) },
      ),
      { maxLength: 6 },
    )
    .map((parts) => [...cmd.split(' '), ...parts.flat()]),
);

/** Stops a parse after validation (handlers never run), running the command's `check` first. */
class Checked extends Error {}

const byName = new Map<string, CliCommand>(commands.map((c) => [String(c.command).split(' ')[0]!, c]));

interface Verdict {
  code: number;
  stderr: string;
  stdout: string;
}

async function inProcess(raw: string[]): Promise<Verdict> {
  const argv = normaliseArgv(raw);
  let out = '';
  let usage: UsageError | undefined;
  const write = process.stdout.write.bind(process.stdout);
  // Text only: the test runner's own reports (binary, on this stdout) must pass through.
  process.stdout.write = ((s: string | Uint8Array, ...rest: unknown[]) => (typeof s === 'string' ? ((out += s), true) : write(s, ...(rest as [])))) as typeof process.stdout.write;
  try {
    const cli = (buildParser(argv, commands, (e) => {
      usage = e;
      throw e;
    }) as Argv)
      .exitProcess(false)
      .middleware(async (parsed) => {
        await byName.get(String(parsed._[0]))?.check?.(parsed as never);
        throw new Checked();
      }, false);
    await cli.parseAsync();
    return { code: 0, stderr: '', stdout: out };
  } catch (err) {
    if (err instanceof Checked) return { code: 0, stderr: '', stdout: out };
    const e = usage ?? err;
    return { code: exitCodeOf(e), stderr: formatError(e), stdout: out };
  } finally {
    process.stdout.write = write;
  }
}

const DOCUMENTED = new Set([0, 1, 2, 3, 4, 5]);
const sampleForE2e: Array<{ argv: string[]; code: number }> = [];
let cases = 0;

test('fuzz: hostile flag vectors for every command, in-process through the parser', { timeout: 120_000 }, async () => {
  const before = readdirSync(state);
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  await fc.assert(
    fc.asyncProperty(argvArb, async (argv) => {
      cases++;
      const started = performance.now();
      const v = await inProcess(argv);
      assert.ok(DOCUMENTED.has(v.code), `exit ${v.code} for ${JSON.stringify(argv)}`);
      // Refusals are one of the documented kinds, never "failure" (1) with a stack.
      if (v.code !== 0) assert.ok(v.code === 2 || v.code === 3, `exit ${v.code}: ${v.stderr} for ${JSON.stringify(argv)}`);
      assert.doesNotMatch(v.stderr, /\n\s+at /);
      assert.ok(!hasControlChars(v.stderr, { allowNewlines: true }), `raw control characters: ${JSON.stringify(v.stderr)}`);
      assert.ok(performance.now() - started < 5000, 'a refusal is immediate');
      if (v.code !== 0 && sampleForE2e.length < 12 && !argv.includes('--help') && !argv.includes('-h') && !argv.includes('--version')) sampleForE2e.push({ argv, code: v.code });
    }),
    { numRuns: 600, seed: 15, endOnFailure: true },
  );
  assert.deepEqual(readdirSync(state), before, 'no token file or state written by a refused command line');
  const rssGrowthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(rssGrowthMb < 256, `RSS grew ${rssGrowthMb.toFixed(0)} MB over the property`);
  process.stderr.write(`fuzz flags: ${cases} in-process cases in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
});

test('fuzz: a sample of the refused vectors end to end through the real binary agrees', { timeout: 120_000 }, async () => {
  assert.ok(sampleForE2e.length >= 6, `sample of ${sampleForE2e.length}`);
  const t0 = performance.now();
  for (const { argv, code } of sampleForE2e) {
    const child = runCli(argv, { GHOST_ALPS_STATE_DIR: state });
    const done = collect(child);
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const r = await done;
    clearTimeout(timer);
    assert.equal(r.code, code, `${JSON.stringify(argv)}: in-process ${code}, binary ${r.code}: ${r.err}`);
    assert.doesNotMatch(r.err, /\n\s+at /);
    assert.ok(!hasControlChars(r.err, { allowNewlines: true }), JSON.stringify(r.err));
  }
  assert.deepEqual(readdirSync(state), []);
  process.stderr.write(`fuzz flags: ${sampleForE2e.length} end-to-end cases in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
});
