/**
 * Bounded fuzzing of the C++ queue decoder under AddressSanitizer + UBSan: builds
 * native/ghost/fuzz_decoder.cc (standalone driver; libFuzzer entry point also provided) with g++
 * and runs it for a few seconds. Any out-of-bounds read, UB or accounting violation aborts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/dist\/$/, '/');
const cxx = process.env.CXX ?? 'g++';
const hasCxx = spawnSync(cxx, ['--version']).status === 0;

test('fuzz: queue decoder under ASan/UBSan for a bounded time', { skip: hasCxx ? undefined : `${cxx} not available` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alps-fuzz-'));
  try {
    const bin = join(dir, 'fuzz_decoder');
    const build = spawnSync(
      cxx,
      ['-std=c++20', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-DALPS_FUZZ_STANDALONE',
        `-I${join(root, 'native')}`, join(root, 'native/ghost/fuzz_decoder.cc'), join(root, 'native/ghost/queue.cc'), '-o', bin],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(build.status, 0, build.stderr);
    const run = spawnSync(bin, ['6', '20261122'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /fuzz_decoder: \d+ inputs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
