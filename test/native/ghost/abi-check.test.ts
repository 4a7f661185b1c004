import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddonAbi, RECORD_BYTES, SUPPORTED_ABIS } from '../../../src/native/ghost.js';

test('addon check at load: a build whose record size or ABI list differs is refused, naming both sides', () => {
  assert.doesNotThrow(() => checkAddonAbi(RECORD_BYTES, [...SUPPORTED_ABIS].reverse()));
  assert.throws(() => checkAddonAbi(56, [...SUPPORTED_ABIS]), /record size 56 vs 64 bytes.*rebuild/);
  assert.throws(() => checkAddonAbi(RECORD_BYTES, [84, 90]), /ABIs \[84,90\] vs \[84,90,91\]/);
});
