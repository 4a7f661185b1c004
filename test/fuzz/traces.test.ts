/**
 * Hostile traces in both formats (InvocationRecords as JSON Lines or CSV, and the artifact's
 * `id n app gap port` rows): any field values, prototype keys, control characters, long lines.
 * Every input either yields records/workloads that satisfy the documented invariants, or is
 * refused with an InputError (exit 3) whose printed line has no raw control characters — never
 * another error, a hang, or a polluted Object.prototype.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { exitCodeOf, formatError } from '../../src/cli/errors.js';
import { InputError } from '../../src/core/errors.js';
import { MAX_FUNC_ID } from '../../src/core/ids.js';
import type { InvocationRecord } from '../../src/core/records.js';
import { hasControlChars } from '../../src/core/terminal.js';
import { readInvocationRecords, readLines } from '../../src/workload/invocation-io/index.js';
import { MAX_ROW_CPU_MS, MAX_TRACE_SPAN_NS, parseArtifactTrace } from '../../src/workload/trace.js';
import { workloadFromRecords } from '../../src/workload/records-workload.js';

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const FIELDS = ['funcId', 'arrivalNs', 'endNs', 'cpuNs', 'id', 'name', 'firstWaitNs', 'waitNs', 'blockedNs', 'voluntarySwitches', 'involuntarySwitches', 'slicesNs'];

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, 0.5, 4294967295, 4294967296),
  fc.integer({ min: 0, max: 1e12 }),
  fc.double(),
);
const hostileString = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...PROTO_KEYS, '\u001b]0;PWNED\u0007', '\u001b[2J', 'a,b', '"q"', '\r', '\u2028'));
const hostileValue = fc.oneof({ weight: 4, arbitrary: hostileNumber }, hostileString, fc.constant(null), fc.boolean(), fc.array(hostileNumber, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }));

/** A JSON object: mostly record fields, sometimes prototype or unknown keys. */
const recordObj = fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...FIELDS) }, fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), hostileValue, { maxKeys: 8 });

/** A JSONL line: an object as JSON (with `__proto__` as a real key), or garbage. */
const jsonlLine = fc.oneof(
  { weight: 6, arbitrary: recordObj.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"polluted":1},"funcId":2,"arrivalNs":0,"endNs":1,"cpuNs":1}', '{"constructor":{"prototype":{"polluted":1}}}', '{', '[]', 'null', '1e999', '\uFEFF{}') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

const csvCell = fc.oneof(hostileNumber.map(String), hostileString, fc.constant(''));
const csvText = fc
  .tuple(fc.shuffledSubarray([...FIELDS, ...PROTO_KEYS.slice(0, 2)], { minLength: 1 }), fc.array(fc.array(csvCell, { maxLength: 14 }), { maxLength: 6 }))
  .map(([cols, rows]) => [cols.join(','), ...rows.map((r) => r.join(','))].join('\n'));

function checkRecord(r: InvocationRecord): void {
  assert.ok(Number.isInteger(r.funcId) && r.funcId >= 1 && r.funcId <= MAX_FUNC_ID);
  for (const k of ['arrivalNs', 'endNs', 'cpuNs'] as const) assert.ok(Number.isSafeInteger(r[k]) && r[k] >= 0, `${k} ${r[k]}`);
  assert.ok(r.endNs >= r.arrivalNs);
  assert.ok(Object.getPrototypeOf(r) === Object.prototype && !Object.hasOwn(r, '__proto__'));
}

/** A refusal as the CLI prints it: exit 3, one line, no raw control characters. */
function checkRefusal(err: unknown): void {
  assert.ok(err instanceof InputError, `not an InputError: ${(err as Error)?.stack ?? String(err)}`);
  assert.equal(exitCodeOf(err), 3);
  assert.ok(!hasControlChars(formatError(err)), JSON.stringify(formatError(err)));
}

async function readAll(text: string, format: 'auto' | 'jsonl' | 'csv'): Promise<InvocationRecord[] | unknown> {
  const out: InvocationRecord[] = [];
  try {
    for await (const r of readInvocationRecords(Readable.from([Buffer.from(text)]), { format, label: 'fuzz' })) out.push(r);
    return out;
  } catch (err) {
    return err;
  }
}

const counts = { jsonl: 0, csv: 0, artifact: 0, long: 0 };

test('fuzz: InvocationRecord traces (JSONL and CSV) are read or refused, never crash', { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  await fc.assert(
    fc.asyncProperty(fc.array(jsonlLine, { maxLength: 8 }), fc.constantFrom<'auto' | 'jsonl'>('auto', 'jsonl'), fc.boolean(), async (lines, format, crlf) => {
      counts.jsonl++;
      const r = await readAll(lines.join(crlf ? '\r\n' : '\n'), format);
      if (Array.isArray(r)) {
        r.forEach(checkRecord);
        if (r.length) {
          try {
            workloadFromRecords(r, 'fuzz', 2).workload.invocations.forEach((s) => assert.ok(Number.isSafeInteger(s.arrivalNs) && s.arrivalNs >= 0 && s.arrivalNs <= MAX_TRACE_SPAN_NS));
          } catch (err) {
            checkRefusal(err);
          }
        }
      } else checkRefusal(r);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
    }),
    { numRuns: 400, seed: 15 },
  );
  await fc.assert(
    fc.asyncProperty(csvText, async (text) => {
      counts.csv++;
      const r = await readAll(text, 'csv');
      if (Array.isArray(r)) r.forEach(checkRecord);
      else checkRefusal(r);
    }),
    { numRuns: 300, seed: 15 },
  );
  const rssGrowthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(rssGrowthMb < 256, `RSS grew ${rssGrowthMb.toFixed(0)} MB over the property`);
  process.stderr.write(`fuzz traces: ${counts.jsonl} JSONL + ${counts.csv} CSV cases in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
});

const APP_TOKENS = ['fib', 'graphBfs', 'bfs', 'mst', 'pagerank', 'feature', 'float', 'featureExtractor', ...PROTO_KEYS, 'resize', ''];
const numTok = fc.oneof(fc.integer({ min: -5, max: 100 }).map(String), fc.constantFrom('1e308', '2000', '70', '47', '1e9', 'NaN', '-0', '0x20', '1.5', '9007199254740993', 'Infinity'), fc.string({ maxLength: 6 }));
const artifactLine = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(numTok, numTok, fc.constantFrom(...APP_TOKENS), numTok, fc.oneof(fc.integer({ min: 4990, max: 70600 }).map(String), numTok)).map((c) => c.join(' ')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('# comment', '', '1 2 3', '1 23 fib 20 5002 extra') },
);

test('fuzz: artifact traces are parsed into bounded workloads or refused (no hang, no prototype lookups)', { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  fc.assert(
    fc.property(fc.array(artifactLine, { maxLength: 10 }), fc.option(fc.constantFrom(0.21, 1e-6, 1e6), { nil: undefined }), (lines, msPerUnit) => {
      counts.artifact++;
      const started = performance.now();
      try {
        const b = parseArtifactTrace(lines.join('\n'), 'fuzz', { cpus: 2, seed: 1, ...(msPerUnit !== undefined ? { msPerUnit } : {}) });
        for (const s of b.workload.invocations) {
          assert.ok(Number.isSafeInteger(s.arrivalNs) && s.arrivalNs >= 0 && s.arrivalNs <= MAX_TRACE_SPAN_NS, `arrival ${s.arrivalNs}`);
          const cpu = s.phases.reduce((a, p) => a + p.ns, 0);
          assert.ok(cpu > 0 && cpu <= MAX_ROW_CPU_MS * 1e6 * 3, `demand ${cpu}`);
        }
      } catch (err) {
        if (err instanceof InputError && err.input === '--ms-per-unit') return;
        checkRefusal(err);
      }
      assert.ok(performance.now() - started < 2000);
    }),
    { numRuns: 500, seed: 15 },
  );
  process.stderr.write(`fuzz traces: ${counts.artifact} artifact cases in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
});

test('fuzz: long lines are cut at the cap with a named error, whatever the chunking', { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 97 }), fc.integer({ min: 10, max: 200 }), async (len, chunk, cap) => {
      counts.long++;
      const text = `ok\n${'z'.repeat(len)}\nend`;
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; i += chunk) chunks.push(Buffer.from(text.slice(i, i + chunk)));
      const got: string[] = [];
      try {
        for await (const l of readLines(Readable.from(chunks), 'f', cap)) got.push(l.text);
        assert.ok(len <= cap + 1, `a ${len}-char line passed a cap of ${cap}`);
        assert.deepEqual(got, ['ok', 'z'.repeat(len), 'end']);
      } catch (err) {
        assert.ok(len > cap, `refused a ${len}-char line under a cap of ${cap}`);
        assert.match((err as Error).message, /^f:2: line longer than/);
      }
    }),
    { numRuns: 200, seed: 15 },
  );
  process.stderr.write(`fuzz traces: ${counts.long} line-cap cases\n`);
});
