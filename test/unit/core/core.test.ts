import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupOf, msToNs, nsToMs, isFuncId, isNs, InputError, cpuDemandNs } from '../../../src/core/index.js';

test('groupOf follows Table 1 boundaries', () => {
  assert.equal(groupOf(msToNs(0)), 1);
  assert.equal(groupOf(msToNs(49.999)), 1);
  assert.equal(groupOf(msToNs(50)), 2);
  assert.equal(groupOf(msToNs(199)), 2);
  assert.equal(groupOf(msToNs(200)), 3);
  assert.equal(groupOf(msToNs(400)), 4);
});

test('time units round-trip and validate', () => {
  assert.equal(nsToMs(msToNs(12.5)), 12.5);
  assert.ok(isNs(0));
  assert.ok(!isNs(-1));
  assert.ok(!isNs(1.5));
  assert.ok(!isNs(Number.NaN));
});

test('funcId 0 is not a function; u32 bounds hold', () => {
  assert.ok(!isFuncId(0));
  assert.ok(isFuncId(1));
  assert.ok(isFuncId(0xffffffff));
  assert.ok(!isFuncId(0x100000000));
});

test('InputError names the input and the problem', () => {
  const e = new InputError('trace.jsonl:3', 'endNs before arrivalNs');
  assert.equal(e.message, 'trace.jsonl:3: endNs before arrivalNs');
});

test('cpuDemandNs sums only CPU phases', () => {
  assert.equal(cpuDemandNs({ id: 1, funcId: 1, arrivalNs: 0, phases: [{ kind: 'cpu', ns: 5 }, { kind: 'block', ns: 100 }, { kind: 'cpu', ns: 7 }] }), 12);
});
