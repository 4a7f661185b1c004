import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { learnCommand } from '../../../src/cli/commands/learn.js';
import type { InvocationRecord } from '../../../src/core/records.js';
import { writeInvocationRecords } from '../../../src/workload/invocation-io/index.js';

const dir = mkdtempSync(join(tmpdir(), 'alps-learn-window-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MS = 1e6;

async function learnOut(args: Record<string, unknown>): Promise<string> {
  let out = '';
  const orig = process.stdout.write.bind(process.stdout);
  // Text only: the test runner's own reports (binary, on this stdout) must pass through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => (typeof chunk === 'string' ? ((out += chunk), true) : orig(chunk, ...(rest as [])))) as typeof process.stdout.write;
  try {
    await (learnCommand.handler as (a: unknown) => Promise<void>)({ format: 'auto', json: false, ...args });
  } finally {
    process.stdout.write = orig;
  }
  return out;
}

test('learn --now-ms T learns from the window ending at T, however long the trace after it', async () => {
  // 30,000 records, one completing every ms for 30 s: far more than the 5,000-record buffer.
  const recs: InvocationRecord[] = Array.from({ length: 30_000 }, (_, i) => ({ funcId: 2 + (i % 3), arrivalNs: i * MS, endNs: i * MS + 2 * MS, cpuNs: MS }));
  const path = join(dir, 'long.jsonl');
  await writeInvocationRecords(path, recs, 'jsonl');
  const out = await learnOut({ trace: path, 'now-ms': 5000, utilisation: 50 });
  const m = /window: (\d+) of 30000 records, ending at 5000\.0 ms/.exec(out);
  assert.ok(m, out);
  // Completions in (0, 5000] ms: records 0..4998, at most 5000 (the record cap).
  assert.ok(Number(m[1]) >= 4900, `window held ${m[1]} records`);
  assert.match(out, /^\s+2\s+/m, 'a policy with entries');
});
