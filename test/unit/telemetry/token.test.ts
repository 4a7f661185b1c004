import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RateLimiter } from '../../../src/telemetry/rate-limit.js';
import { generateToken, readTokenFile, tokenMatches, writeTokenFile } from '../../../src/telemetry/token.js';

test('token files are written 0600 in a 0700 directory and read back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alps-token-'));
  try {
    const path = join(dir, 'state', 'telemetry-1.token');
    const t = generateToken();
    assert.ok(t.length >= 32);
    writeFileSync(join(dir, 'placeholder'), '');
    writeTokenFile(path, t);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700);
    assert.equal(readTokenFile(path), t);
    writeTokenFile(path, 'second');
    assert.equal(readTokenFile(path), 'second');
    chmodSync(path, 0o644);
    assert.throws(() => readTokenFile(path), /readable by others/);
    assert.throws(() => readTokenFile(join(dir, 'absent')), /no token file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tokens compare exactly', () => {
  assert.ok(tokenMatches('abc', 'abc'));
  assert.ok(!tokenMatches('abc', 'abd'));
  assert.ok(!tokenMatches('abc', 'abcd'));
  assert.ok(!tokenMatches('abc', ''));
  assert.notEqual(generateToken(), generateToken());
});

test('rate limiter: burst, then the sustained rate', () => {
  let now = 0;
  const rl = new RateLimiter({ perSecond: 10, burst: 5 }, () => now);
  let ok = 0;
  for (let i = 0; i < 20; i++) if (rl.take()) ok++;
  assert.equal(ok, 5);
  now += 1000;
  ok = 0;
  for (let i = 0; i < 20; i++) if (rl.take()) ok++;
  assert.equal(ok, 5, 'refill is capped at the burst');
  now += 300;
  ok = 0;
  for (let i = 0; i < 20; i++) if (rl.take()) ok++;
  assert.equal(ok, 3);
});
