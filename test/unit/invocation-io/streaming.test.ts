import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { readInvocationRecords, readLines } from '../../../src/workload/invocation-io/index.js';
import { readArtifactTrace } from '../../../src/workload/trace.js';
import { loadWorkloadSource } from '../../../src/workload/source.js';

const dir = mkdtempSync(join(tmpdir(), 'alps-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function lines(chunks: string[], max?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(Readable.from(chunks.map((c) => Buffer.from(c))), 'in', max)) out.push(l.text);
  return out;
}

test('lines: split across chunks, CRLF, BOM and a last line without newline', async () => {
  assert.deepEqual(await lines(['\uFEFFa,b\r', '\nc', 'd\n', 'e']), ['a,b', 'cd', 'e']);
  // A multi-byte character split between chunks is decoded whole.
  const euro = Buffer.from('€\n');
  const out: string[] = [];
  for await (const l of readLines(Readable.from([euro.subarray(0, 1), euro.subarray(1)]), 'in')) out.push(l.text);
  assert.deepEqual(out, ['€']);
});

test('lines: a line beyond the cap is an InputError naming the line, even without a newline', async () => {
  await assert.rejects(lines(['ok\n', 'x'.repeat(50), 'x'.repeat(60)], 100), (e: unknown) => e instanceof InputError && /^in:2: line longer than 100 characters/.test(e.message));
  await assert.rejects(lines(['y'.repeat(300) + '\n'], 100), /in:1: line longer than 100/);
});

/** A FIFO fed forever by `writer`: a reader that reads the whole input never returns. */
function endlessFifo(name: string, writer: string): { path: string; stop(): void } {
  const path = join(dir, name);
  spawnSync('mkfifo', [path]);
  const child = spawn('sh', ['-c', `${writer} > '${path}'`], { stdio: 'ignore' });
  return { path, stop: () => child.kill('SIGKILL') };
}

test('an artifact trace is read as a stream: --invocations N stops reading after N rows (endless input)', { timeout: 30_000 }, async () => {
  const f = endlessFifo('endless-trace', "yes '1 23 fib 20 5002'");
  try {
    const b = await readArtifactTrace(f.path, { cpus: 2, seed: 1, limit: 1000 });
    assert.equal(b.workload.invocations.length, 1000);
  } finally {
    f.stop();
  }
});

test('a single endless line fails at the line cap instead of growing one string (both formats)', { timeout: 30_000 }, async () => {
  const f = endlessFifo('endless-line', "tr '\\0' x < /dev/zero");
  try {
    await assert.rejects(readArtifactTrace(f.path, { cpus: 2, seed: 1 }), /endless-line:1: line longer than 1048576 characters/);
  } finally {
    f.stop();
  }
  const g = endlessFifo('endless-line-jsonl', "tr '\\0' x < /dev/zero");
  try {
    await assert.rejects(async () => {
      for await (const r of readInvocationRecords(g.path, { format: 'jsonl' })) void r;
    }, /line longer than 1048576 characters/);
  } finally {
    g.stop();
  }
});

test('InvocationRecord files are workloads too: arrivals as recorded, CPU as recorded', async () => {
  const p = join(dir, 'recs.jsonl');
  writeFileSync(p, ['{"funcId":3,"arrivalNs":5000000,"endNs":9000000,"cpuNs":2000000,"name":"a"}', '{"funcId":4,"arrivalNs":1000000,"endNs":4000000,"cpuNs":3000000,"blockedNs":1000}'].join('\n'));
  const b = await loadWorkloadSource(p, { invocations: 10, cpus: 2, load: 0.9, seed: 1 });
  assert.deepEqual(
    b.workload.invocations.map((s) => [s.funcId, s.arrivalNs, s.phases]),
    [
      [4, 0, [{ kind: 'cpu', ns: 3e6 }, { kind: 'block', ns: 1000 }]],
      [3, 4e6, [{ kind: 'cpu', ns: 2e6 }]],
    ],
  );
  assert.deepEqual(b.workload.functions.map((f) => f.name), ['a', 'f4']);
  const csv = join(dir, 'recs.csv');
  writeFileSync(csv, 'funcId,arrivalNs,endNs,cpuNs\n7,0,10,5\n');
  assert.equal((await loadWorkloadSource(csv, { invocations: 10, cpus: 2, load: 0.9, seed: 1 })).workload.invocations.length, 1);
});

test('replayed records are bounded like artifact rows: 600 s of CPU each, 7 days of arrivals', async () => {
  const span = join(dir, 'span.jsonl');
  writeFileSync(span, '{"funcId":2,"arrivalNs":0,"endNs":1000000,"cpuNs":1000000}\n{"funcId":2,"arrivalNs":9000000000000000,"endNs":9000000001000000,"cpuNs":1000000}\n');
  await assert.rejects(loadWorkloadSource(span, { invocations: 10, cpus: 2, load: 0.9, seed: 1 }), /the arrivals span 104 days; the limit is 7 days/);
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, '{"id":7,"funcId":2,"arrivalNs":0,"endNs":700000000000,"cpuNs":700000000000}\n');
  await assert.rejects(loadWorkloadSource(big, { invocations: 10, cpus: 2, load: 0.9, seed: 1 }), /record id 7: cpuNs 700000000000 is above the 600 s/);
  const wide = join(dir, 'wide-gaps');
  writeFileSync(wide, '1 23 fib 1000000000 5002\n2 23 fib 1000000000 5002\n');
  await assert.rejects(loadWorkloadSource(wide, { invocations: 10, cpus: 2, load: 0.9, seed: 1, msPerUnit: 1000 }), /the arrivals span .* days; the limit is 7 days/);
});

test("learn on simulate's metrics CSV points at the records file beside it", async () => {
  const p = join(dir, 'invocations-cfs.csv');
  writeFileSync(p, 'id,funcId,group,class,turnaroundMs,cpuMs,firstWaitMs,waitMs,slices,contextSwitches,slowdown\n1,2,1,,3.0,1.0,0,0,1,0,1\n');
  await assert.rejects(async () => {
    for await (const r of readInvocationRecords(p)) void r;
  }, /unknown CSV column 'group'.*learn from the records-<scheduler>\.jsonl beside it/);
});
