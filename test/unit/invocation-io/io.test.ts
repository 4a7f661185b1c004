import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InputError, type InvocationRecord } from '../../../src/core/index.js';
import {
  readAllInvocationRecords,
  readInvocationRecords,
  writeInvocationRecords,
  splitCsvLine,
} from '../../../src/workload/invocation-io/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ghost-alps-io-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const full: InvocationRecord = {
  funcId: 7,
  arrivalNs: 1_000,
  endNs: 50_000_000,
  cpuNs: 30_000_000,
  id: 3,
  name: 'fib, "big"',
  firstWaitNs: 10,
  waitNs: 20,
  blockedNs: 5_000,
  voluntarySwitches: 2,
  involuntarySwitches: 1,
  slicesNs: [10_000_000, 20_000_000],
};
const minimal: InvocationRecord = { funcId: 1, arrivalNs: 0, endNs: 5, cpuNs: 5 };

for (const format of ['jsonl', 'csv'] as const) {
  test(`${format}: round trip keeps every field and omits absent ones`, async () => {
    const path = join(dir, `rt.${format}`);
    assert.equal(await writeInvocationRecords(path, [full, minimal], format), 2);
    const back = await readAllInvocationRecords(path);
    assert.deepEqual(back, [full, minimal]);
  });

  test(`${format}: auto-detects from content when the extension says nothing`, async () => {
    const path = join(dir, `noext-${format}`);
    await writeInvocationRecords(path, [minimal], format);
    assert.deepEqual(await readAllInvocationRecords(path, { format: 'auto' }), [minimal]);
  });
}

async function rejects(content: string, name: string, match: RegExp, format?: 'jsonl' | 'csv'): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, content);
  await assert.rejects(readAllInvocationRecords(path, format ? { format } : {}), (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.match(err.message, match);
    return true;
  });
}

const ok = '{"funcId":1,"arrivalNs":0,"endNs":5,"cpuNs":5}';

test('jsonl: each bad record is rejected with file:line and the reason', async () => {
  await rejects(`${ok}\n{"funcId":1,"arrivalNs":0,"cpuNs":5}\n`, 'a.jsonl', /a\.jsonl:2: missing field 'endNs'/);
  await rejects(`${ok}\n\n{"funcId":1,"arrivalNs":-1,"endNs":5,"cpuNs":5}\n`, 'b.jsonl', /b\.jsonl:3: arrivalNs must not be negative/);
  await rejects(`{"funcId":1,"arrivalNs":10,"endNs":5,"cpuNs":5}\n`, 'c.jsonl', /c\.jsonl:1: endNs 5 is before arrivalNs 10/);
  await rejects(`{"funcId":1,"arrivalNs":"x","endNs":5,"cpuNs":5}\n`, 'd.jsonl', /d\.jsonl:1: arrivalNs must be a number/);
  await rejects(`{"funcId":1,"arrivalNs":0,"endNs":5,"cpuNs":5,"arrivalMs":3}\n`, 'e.jsonl', /e\.jsonl:1: unknown field 'arrivalMs'/);
  await rejects(`{"funcId":0,"arrivalNs":0,"endNs":5,"cpuNs":5}\n`, 'f.jsonl', /f\.jsonl:1: funcId must be an integer in 1\.\./);
  await rejects(`{"funcId":1,"arrivalNs":0,"endNs":5,"cpuNs":5.5}\n`, 'g.jsonl', /g\.jsonl:1: cpuNs must be a whole number/);
  await rejects(`{"funcId":1,\n`, 'h.jsonl', /h\.jsonl:1: not valid JSON/);
  await rejects(`[1,2]\n`, 'i.jsonl', /i\.jsonl:1: expected a JSON object/);
  await rejects(`{"funcId":1,"arrivalNs":0,"endNs":5,"cpuNs":5,"slicesNs":[1,-2]}\n`, 'j.jsonl', /j\.jsonl:1: slicesNs\[1\] must not be negative/);
});

test('csv: header and rows are validated with file:line', async () => {
  const head = 'funcId,arrivalNs,endNs,cpuNs';
  await rejects(`${head}\n1,0,5,5\n1,0,,5\n`, 'a.csv', /a\.csv:3: missing field 'endNs'/);
  await rejects(`${head}\n1,0,5,NaN\n`, 'b.csv', /b\.csv:2: cpuNs must be a number, got 'NaN'/);
  await rejects(`${head}\n1,0,5\n`, 'c.csv', /c\.csv:2: expected 4 cells/);
  await rejects(`funcId,arrivalNs,cpuNs\n`, 'd.csv', /d\.csv:1: CSV header lacks the required column 'endNs'/);
  await rejects(`${head},colour\n`, 'e.csv', /e\.csv:1: unknown CSV column 'colour'/);
  await rejects(`${head}\n1,9,5,5\n`, 'f.csv', /f\.csv:2: endNs 5 is before arrivalNs 9/);
  await rejects(`${head},name\n1,0,5,5,"open\n`, 'g.csv', /g\.csv:2: unterminated quoted cell/);
});

test('unknown format is rejected naming the first line', async () => {
  await rejects('hello world\n', 'x.txt', /x\.txt:1: unknown format/);
  // An explicit format overrides detection, and the content must then match it.
  await rejects(`${ok}\n`, 'y.txt', /y\.txt:1: stray quote/, 'csv');
});

test('a missing file is an InputError naming it', async () => {
  await assert.rejects(readAllInvocationRecords(join(dir, 'nope.jsonl')), /nope\.jsonl: cannot read: ENOENT/);
});

test('CRLF line ends, a BOM and blank lines are accepted', async () => {
  const path = join(dir, 'crlf.csv');
  writeFileSync(path, '\uFEFFfuncId,arrivalNs,endNs,cpuNs,name\r\n\r\n2,1,3,2,"a ""q"""\r\n');
  assert.deepEqual(await readAllInvocationRecords(path), [{ funcId: 2, arrivalNs: 1, endNs: 3, cpuNs: 2, name: 'a "q"' }]);
});

test('csv cell splitting handles quotes, commas and trailing empties', () => {
  assert.deepEqual(splitCsvLine('1,"a,b",,', 'w'), ['1', 'a,b', '', '']);
  assert.throws(() => splitCsvLine('1,"a"x', 'w'), /unexpected text after a quoted cell/);
});

test('streams: a large file is read lazily, record by record', async () => {
  const path = join(dir, 'big.jsonl');
  const n = 20_000;
  await writeInvocationRecords(
    path,
    (function* () {
      for (let i = 0; i < n; i++) yield { funcId: 1 + (i % 5), arrivalNs: i * 1000, endNs: i * 1000 + 500, cpuNs: 400, id: i };
    })(),
    'jsonl',
  );
  let seen = 0;
  for await (const r of readInvocationRecords(path)) {
    assert.equal(r.id, seen);
    seen++;
    if (seen === 10) break; // stopping early must close the file cleanly
  }
  assert.equal(seen, 10);
  assert.equal((await readAllInvocationRecords(path)).length, n);
  assert.ok(readFileSync(path, 'utf8').split('\n').length > n);
});

test('reads from a Readable (stdin) with a label in errors', async () => {
  const input = Readable.from([`${ok}\n{"funcId":1}\n`]);
  await assert.rejects(readAllInvocationRecords(input, { label: 'stdin' }), /stdin:2: missing field 'arrivalNs'/);
});

test('writing to an impossible path is an InputError naming it', async () => {
  await assert.rejects(writeInvocationRecords(join(dir, 'no', 'such', 'dir.jsonl'), [minimal], 'jsonl'), /dir\.jsonl: cannot write: ENOENT/);
});
