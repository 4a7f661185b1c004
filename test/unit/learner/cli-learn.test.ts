import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../../../src/core/index.js';
import { learnCommand, paramsFromArgs, estimateUtilisation } from '../../../src/cli/commands/learn.js';
import { writeInvocationRecords } from '../../../src/workload/invocation-io/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ghost-alps-learn-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const MS = 1e6;

async function run(args: Record<string, unknown>): Promise<string> {
  let out = '';
  const orig = process.stdout.write.bind(process.stdout);
  // Text only: the test runner's own reports (binary, on this stdout) must pass through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return orig(chunk, ...(rest as []));
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await (learnCommand.handler as (a: unknown) => Promise<void>)({ format: 'auto', json: false, ...args });
  } finally {
    process.stdout.write = orig;
  }
  return out;
}

const records = [
  { funcId: 2, arrivalNs: 0, endNs: 12 * MS, cpuNs: 12 * MS, name: 'fib1' },
  { funcId: 18, arrivalNs: 1 * MS, endNs: 160 * MS, cpuNs: 130 * MS, name: 'fib4' },
  { funcId: 2, arrivalNs: 5 * MS, endNs: 24 * MS, cpuNs: 12 * MS, name: 'fib1' },
  { funcId: 6, arrivalNs: 9 * MS, endNs: 80 * MS, cpuNs: 45 * MS, name: 'fib2' },
];

test('learn --json prints the Policy; the table shows ranks, slices and names', async () => {
  const path = join(dir, 'trace.csv');
  await writeInvocationRecords(path, records, 'csv');
  const policy = JSON.parse(await run({ trace: path, json: true, utilisation: 90 })) as Policy;
  assert.equal(policy.generation, 1);
  assert.deepEqual(policy.entries.map((e) => [e.funcId, e.rank]), [[2, 1], [6, 2], [18, 3]]);
  assert.ok(Math.abs(policy.entries[0]!.sliceNs - 14.4 * MS) <= 1);
  const table = await run({ trace: path, utilisation: 90 });
  assert.match(table, /overload factor p = 0\.600/);
  assert.match(table, /^\s+2\s+fib1\s+1\s+14\.4\s+2\s+12\.0/m);
});

test('learn: artifact mode and flags reach the learner; bad flags are named', async () => {
  const path = join(dir, 'trace.jsonl');
  await writeInvocationRecords(path, records, 'jsonl');
  const policy = JSON.parse(await run({ trace: path, json: true, mode: 'artifact', cpus: 1, utilisation: 40 })) as Policy;
  assert.equal(policy.params.mode, 'artifact');
  assert.deepEqual(policy.entries.map((e) => e.rank), [1, 2, 6, 18], 'artifact: UID 1 inserted, priority = UID');
  await assert.rejects(run({ trace: path, alpha: -1 }), /--alpha: must be ≥ 0/);
  await assert.rejects(run({ trace: path, 'window-ms': 0 }), /--window-ms/);
  await assert.rejects(run({ trace: path, utilisation: 120 }), /--utilisation/);
  await assert.rejects(run({ trace: join(dir, 'missing.jsonl') }), /missing\.jsonl: cannot read/);
});

test('utilisation estimate is window CPU time over capacity, capped at 100', () => {
  const p = paramsFromArgs({ 'window-ms': 100, cpus: 2 });
  assert.equal(p.windowNs, 100 * MS);
  // 199 ms of CPU over 100 ms × 2 CPUs (the window is shorter than the 160 ms span).
  assert.equal(estimateUtilisation(records, p, 160 * MS), 99.5);
  assert.equal(estimateUtilisation(records, paramsFromArgs({ 'window-ms': 50, cpus: 2 }), 160 * MS), 100);
  // A trace shorter than W: capacity over the 40 ms it covers.
  assert.equal(estimateUtilisation(records.slice(0, 1), p, 40 * MS), 15);
  assert.equal(estimateUtilisation([], p, 40 * MS), 0);
});
