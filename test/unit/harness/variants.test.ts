import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../../src/core/errors.js';
import { parseSchedulerList } from '../../../src/harness/variants.js';

test('scheduler lists: names, :io-aware modifier, global io-aware for ALPS only', () => {
  assert.deepEqual(parseSchedulerList('cfs, alps,alps:io-aware'), [
    { scheduler: 'cfs', label: 'cfs' },
    { scheduler: 'alps', label: 'alps' },
    { scheduler: 'alps', label: 'alps:io-aware', options: { learner: { ioAware: true } } },
  ]);
  assert.deepEqual(parseSchedulerList('cfs,alps-delegated', true), [
    { scheduler: 'cfs', label: 'cfs' },
    { scheduler: 'alps-delegated', label: 'alps-delegated', options: { learner: { ioAware: true } } },
  ]);
});

test('bad scheduler lists are InputErrors naming --schedulers', () => {
  for (const bad of ['', 'cfs,bogus', 'cfs:io-aware', 'alps:fast', 'cfs,cfs']) {
    assert.throws(() => parseSchedulerList(bad), (e: unknown) => e instanceof InputError && e.input === '--schedulers', bad);
  }
});
