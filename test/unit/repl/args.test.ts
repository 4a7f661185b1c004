import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { parseDuration, parsePinArgs, parseSetArgs } from '../../../src/repl/args.js';
import { completeArgs } from '../../../src/repl/repl.js';

test('.set parses KEY VALUE and KEY=VALUE lists with typed values', () => {
  assert.deepEqual(parseSetArgs('alpha 2'), { alpha: 2 });
  assert.deepEqual(parseSetArgs('alpha=2.5 beta=0.5'), { alpha: 2.5, beta: 0.5 });
  assert.deepEqual(parseSetArgs('window 3s'), { windowNs: 3_000_000_000 });
  assert.deepEqual(parseSetArgs('model linreg'), { model: 'linreg' });
  assert.deepEqual(parseSetArgs('ioAware true'), { ioAware: true });
  assert.throws(() => parseSetArgs(''), /usage/);
  assert.throws(() => parseSetArgs('alpha two'), /\.set\.alpha: must be a finite number/);
  assert.throws(() => parseSetArgs('alpah 2'), /\.set\.alpah: unknown learner parameter/);
  assert.throws(() => parseSetArgs('model gpt'), /must be one of/);
  assert.throws(() => parseSetArgs('maxRecords 1.5'), /must be an integer/);
});

test('.pin parses rank and slice with units', () => {
  assert.deepEqual(parsePinArgs('fib1 rank=1'), { func: 'fib1', pin: { rank: 1 } });
  assert.deepEqual(parsePinArgs('fib1 rank=2 slice=20ms'), { func: 'fib1', pin: { rank: 2, sliceNs: 20_000_000 } });
  assert.deepEqual(parsePinArgs('7 sliceNs=5000'), { func: '7', pin: { sliceNs: 5000 } });
  assert.throws(() => parsePinArgs('fib1'), /usage/);
  assert.throws(() => parsePinArgs('fib1 rank=0'), /rank=N/);
  assert.throws(() => parsePinArgs('fib1 colour=red'), /rank=N/);
});

test('durations', () => {
  assert.equal(parseDuration('1.5s', 'x'), 1_500_000_000);
  assert.equal(parseDuration('300us', 'x'), 300_000);
  assert.equal(parseDuration('20', 'x'), 20_000_000);
  assert.equal(parseDuration('20', 'x', 'ns'), 20);
  assert.throws(() => parseDuration('-1ms', 'x'), /not a duration/);
});

test('tab completion of command arguments', () => {
  const backend = { functions: [{ funcId: 1, name: 'fib1', app: 'fib', group: 1 as const }, { funcId: 2, name: 'float1', app: 'float', group: 1 as const }, { funcId: 3, name: 'bfs1', app: 'bfs', group: 1 as const }] };
  assert.deepEqual(completeArgs('.set al', backend), [['alpha'], 'al']);
  assert.deepEqual(completeArgs('.pin f', backend), [['fib1', 'float1'], 'f']);
  assert.deepEqual(completeArgs('.unpin b', backend), [['bfs1'], 'b']);
  assert.equal(completeArgs('policy.gen', backend), undefined);
});

test('.set with a prototype key is an unknown parameter, not a prototype write', () => {
  for (const k of ['__proto__', 'constructor', 'toString']) {
    assert.throws(() => parseSetArgs(`${k}=1`), (e: unknown) => e instanceof InputError && e.message.includes('unknown learner parameter'), k);
  }
});
