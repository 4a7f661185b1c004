import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../../../src/core/errors.js';
import { parseClientMessage, parseParamsPatch, parseServerMessage } from '../../../src/telemetry/schema.js';

const base = { v: 1, type: 'control', id: 'x', token: 't' };

test('valid client messages parse to exactly what was sent', () => {
  assert.deepEqual(parseClientMessage({ v: 1, type: 'ping', id: 'p1' }), { v: 1, type: 'ping', id: 'p1' });
  assert.deepEqual(parseClientMessage({ ...base, op: 'set-params', params: { alpha: 3, model: 'linreg', ioAware: true } }), {
    ...base,
    op: 'set-params',
    params: { alpha: 3, model: 'linreg', ioAware: true },
  });
  assert.deepEqual(parseClientMessage({ ...base, op: 'pin', funcId: 7, sliceNs: 0 }), { ...base, op: 'pin', funcId: 7, sliceNs: 0 });
  assert.deepEqual(parseClientMessage({ ...base, op: 'snapshot' }), { ...base, op: 'snapshot' });
});

test('each bad field is named', () => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /^message: must be a JSON object/],
    [{ v: 2, type: 'ping', id: 'a' }, /^message\.v: must be 1/],
    [{ v: 1, type: 'subscribe', id: 'a' }, /^message\.type/],
    [{ ...base, op: 'reboot' }, /^message\.op: unknown operation "reboot"/],
    [{ ...base, op: 'pause', extra: 1 }, /^message\.extra: unknown field/],
    [{ ...base, token: '' , op: 'pause' }, /^message\.token/],
    [{ ...base, op: 'set-params', params: {} }, /^message\.params: must set at least one/],
    [{ ...base, op: 'set-params', params: { alpha: Infinity } }, /^message\.params\.alpha: must be a finite number/],
    [{ ...base, op: 'set-params', params: { windowNs: 1.5 } }, /^message\.params\.windowNs: must be an integer/],
    [{ ...base, op: 'set-params', params: { model: 'gpt' } }, /^message\.params\.model: must be one of avg/],
    [{ ...base, op: 'set-params', params: { __proto__: { alpha: 1 } } }, /must set at least one/],
    [{ ...base, op: 'pin', funcId: 2 ** 32, rank: 1 }, /^message\.funcId/],
    [{ ...base, op: 'pin', funcId: 3 }, /pin needs rank, sliceNs or both/],
    [{ ...base, op: 'pin', funcId: 3, rank: 0 }, /^message\.rank/],
    [{ ...base, op: 'pin', funcId: 3, sliceNs: -1 }, /^message\.sliceNs/],
    [{ ...base, op: 'unpin', funcId: 'fib1' }, /^message\.funcId/],
  ];
  for (const [raw, re] of bad) assert.throws(() => parseClientMessage(raw), (e: unknown) => e instanceof InputError && re.test(e.message), JSON.stringify(raw));
});

test('parseParamsPatch refuses unknown keys', () => {
  assert.throws(() => parseParamsPatch({ alpha: 1, delta: 2 }), /params\.delta: unknown learner parameter/);
  // JSON.parse makes "__proto__" an own key; it must be refused like any other unknown key.
  assert.throws(() => parseParamsPatch(JSON.parse('{"__proto__": {"alpha": 1}}')), /params\.__proto__: unknown learner parameter/);
  assert.throws(() => parseParamsPatch(JSON.parse('{"constructor": 1}')), /params\.constructor: unknown/);
});

test('any JSON value either parses or fails with an InputError (never another exception)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), fc.record({ v: fc.constant(1), type: fc.constantFrom('ping', 'control'), id: fc.string(), token: fc.string(), op: fc.string(), params: fc.jsonValue(), funcId: fc.jsonValue() }, { requiredKeys: [] })), (raw) => {
      try {
        parseClientMessage(raw);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }),
    { numRuns: 2000, seed: 42 },
  );
});

test('server messages: envelope and the fields consumers read are checked', () => {
  assert.equal(parseServerMessage({ v: 1, type: 'util', atNs: 1, cpus: 8, throughputPerS: 3, completed: 2 }).type, 'util');
  assert.throws(() => parseServerMessage({ v: 1, type: 'policy', atNs: 1, policy: { generation: 1, params: {}, entries: [{ funcId: 0, rank: 1, sliceNs: 0 }] } }), /entries\[0\] \(funcId 0\)\.funcId/);
  assert.throws(() => parseServerMessage({ v: 1, type: 'telepathy' }), /unknown server message type/);
});
