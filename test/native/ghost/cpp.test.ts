/**
 * The C++ side's own unit tests (test/native/ghost/cpp/*_test.cc, googletest): the queue decoder,
 * the client against the emulated kernel (blocking RUN on real threads included) and the
 * emulator's transaction validation — once as a plain build and once under ASan + UBSan.
 *
 * Built here, not by binding.gyp: node-gyp builds every target of binding.gyp on every build and
 * on a from-source `npm install`, and these executables are neither shipped nor wanted there. The
 * compiler, standard and warnings are the addon's (see binding.gyp); objects are cached under
 * build/cpp-tests/ and rebuilt only when a source or a header it includes changed (-MMD).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../../src/native/load.js';

const root = projectRoot();
const execFileAsync = promisify(execFile);
const hasGtest = existsSync('/usr/include/gtest/gtest.h') && existsSync('/usr/lib/x86_64-linux-gnu/libgtest.a');
const hasCompiler = spawnSync('g++', ['--version']).status === 0;
const skip = !hasCompiler
  ? 'g++ not installed (scripts/setup.sh installs build-essential)'
  : !hasGtest
    ? 'googletest not installed (scripts/setup.sh installs libgtest-dev)'
    : !existsSync(join(root, 'test/native/ghost/cpp'))
      ? 'C++ test sources not present (installed package)'
      : undefined;

const SOURCES = [
  'native/ghost/enclave.cc',
  'native/ghost/queue.cc',
  'native/ghost/cpulist.cc',
  'native/ghost/sys_linux.cc',
  'native/ghost/satellites.cc',
  'native/ghost/fifo_baseline.cc',
];
const FLAGS = ['-std=c++20', '-Wall', '-Wextra', '-Werror', '-Wno-missing-field-initializers', '-fexceptions', '-pthread', '-g'];
const INCLUDES = ['-Inative', '-Ighost-kernel', '-Itest/native/ghost/cpp'];
const VARIANTS = {
  plain: ['-O2'],
  asan: ['-O1', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'],
} as const;

function sources(): string[] {
  const emu = readdirSync(join(root, 'ghost-kernel/emu')).filter((f) => f.endsWith('.cc')).map((f) => `ghost-kernel/emu/${f}`);
  const tests = readdirSync(join(root, 'test/native/ghost/cpp')).filter((f) => f.endsWith('_test.cc')).map((f) => `test/native/ghost/cpp/${f}`);
  return [...SOURCES, ...emu, ...tests];
}

function stale(obj: string, dep: string): boolean {
  if (!existsSync(obj) || !existsSync(dep)) return true;
  const built = statSync(obj).mtimeMs;
  const files = readFileSync(dep, 'utf8').replace(/\\\n/g, ' ').split(':').slice(1).join(':').trim().split(/\s+/);
  return files.some((f) => !f || !existsSync(join(root, f)) || statSync(join(root, f)).mtimeMs > built);
}

/** Compiles what changed (as many compilers at once as there are CPUs), then links. */
async function build(variant: keyof typeof VARIANTS): Promise<string> {
  const out = join(root, 'build/cpp-tests', variant);
  const objs: string[] = [];
  const jobs: { src: string; obj: string; dep: string }[] = [];
  for (const src of sources()) {
    const obj = join(out, src.replace(/\.cc$/, '.o'));
    const dep = obj.replace(/\.o$/, '.d');
    objs.push(obj);
    if (stale(obj, dep)) jobs.push({ src, obj, dep });
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const { src, obj, dep } = jobs[next++]!;
      mkdirSync(dirname(obj), { recursive: true });
      await execFileAsync('g++', [...FLAGS, ...VARIANTS[variant], ...INCLUDES, '-MMD', '-MF', dep, '-c', src, '-o', obj], { cwd: root, maxBuffer: 16 << 20 });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
  const exe = join(out, 'ghost_cpp_tests');
  if (jobs.length > 0 || !existsSync(exe)) {
    execFileSync('g++', [...FLAGS, ...VARIANTS[variant], ...objs, '-lgtest', '-lgtest_main', '-o', exe], { cwd: root, stdio: 'pipe' });
  }
  return exe;
}

for (const variant of Object.keys(VARIANTS) as (keyof typeof VARIANTS)[]) {
  // A first build of the emulator under ASan takes minutes on a loaded 2-core machine.
  test(`C++ unit tests (googletest, ${variant} build): decoder, client against the emulator, emulator txn validation`, { skip, timeout: 20 * 60_000 }, async () => {
    let exe: string;
    try {
      exe = await build(variant);
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      assert.fail(`building the ${variant} C++ tests failed: ${err.stderr?.toString() ?? err.message}`);
    }
    const r = spawnSync(exe, ['--gtest_brief=1'], {
      cwd: root,
      timeout: 120_000,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' },
    });
    const output = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
    assert.equal(r.status, 0, `${variant} C++ tests failed:\n${output}`);
    assert.match(output, /PASSED\s+\]\s+\d+ tests?/);
  });
}
