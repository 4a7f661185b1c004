import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../../src/core/errors.js';
import { CpioWriter } from '../../../src/vm/cpio.js';
import { cacheRoot, kernelFiles, projectRoot, vmCacheDir, vmScriptsDir } from '../../../src/vm/paths.js';
import { consoleTail, diagnose, shQuote, validateVmOptions, VmError } from '../../../src/vm/index.js';
import { qemuArgs, resolveClock } from '../../../src/vm/qemu.js';

// Host-side pieces of the VM machinery (no boot): the initramfs writer, argv quoting, option
// validation and the vmlinux/BTF extraction.

const hasCpio = spawnSync('cpio', ['--version'], { stdio: 'ignore' }).status === 0;

test('CpioWriter writes a newc archive that cpio(1) reads back exactly', { skip: hasCpio ? false : 'cpio(1) not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ghost-cpio-'));
  try {
    const host = join(dir, 'host.bin');
    const big = Buffer.alloc(3 * 1024 * 1024 + 3, 0);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    writeFileSync(host, big);
    const archive = join(dir, 'a.cpio');
    const w = new CpioWriter(archive);
    w.data('/etc/odd-size', 'abcde', 0o600);
    w.file('/usr/lib/x/host.bin', host, 0o755);
    w.symlink('/bin/sh', 'busybox');
    w.charDevice('/dev/console', 5, 1);
    const size = w.finish();
    assert.equal(size % 4, 0);
    const list = execFileSync('cpio', ['-itv', '--quiet', '-F', archive], { encoding: 'utf8' }).trim().split('\n');
    const names = list.map((l) => l.replace(/ -> .*$/, '').split(/\s+/).pop());
    // Parents are emitted before their children, once each.
    assert.deepEqual(names, ['etc', 'etc/odd-size', 'usr', 'usr/lib', 'usr/lib/x', 'usr/lib/x/host.bin', 'bin', 'bin/sh', 'dev', 'dev/console']);
    const line = (n: string): string => list.find((l) => l.endsWith(` ${n}`)) ?? '';
    assert.match(line('etc/odd-size'), /^-rw------- /);
    assert.match(line('usr/lib/x/host.bin'), /^-rwxr-xr-x /);
    assert.match(list.find((l) => l.includes('bin/sh')) ?? '', /^lrwxrwxrwx .* bin\/sh -> busybox$/);
    assert.match(line('dev/console'), /^crw------- .* 5,\s+1 /);
    const out = join(dir, 'x');
    execFileSync('cpio', ['-idm', '--quiet', '-F', archive, '-D', out, 'etc/odd-size', 'usr/lib/x/host.bin']);
    assert.equal(readFileSync(join(out, 'etc/odd-size'), 'utf8'), 'abcde');
    assert.ok(readFileSync(join(out, 'usr/lib/x/host.bin')).equals(big));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CpioWriter refuses paths that escape the root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ghost-cpio-'));
  try {
    const w = new CpioWriter(join(dir, 'a.cpio'));
    assert.throws(() => w.data('/../etc/passwd', 'x'), /escapes the root/);
    w.finish();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shQuote survives the shell for every awkward character', () => {
  const words = [`it's`, `"dq"`, '$HOME', '`id`', 'a\\b', 'new\nline', '', ' lead', '*', '!x', 'ü'];
  const script = `printf '%s\\0' ${words.map(shQuote).join(' ')}`;
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.deepEqual(out.split('\0').slice(0, -1), words);
});

test('bad VM options are InputErrors naming the option', () => {
  const bad: [Parameters<typeof validateVmOptions>[0], RegExp][] = [
    [{ command: [] }, /^command:/],
    [{ command: ['true'], cpus: 0 }, /^--cpus:/],
    [{ command: ['true'], cpus: 1.5 }, /^--cpus:/],
    [{ command: ['true'], memMb: 256 }, /^--mem:/],
    [{ command: ['true'], timeoutMs: -1 }, /^--timeout:/],
    [{ command: ['true'], files: [{ guestPath: 'rel/path', content: 'x' }] }, /guest path must be absolute/],
    [{ command: ['true'], files: [{ guestPath: '/a' }] }, /exactly one of hostPath and content/],
    [{ command: ['true'], collect: ['tmp/x'] }, /^collect: tmp\/x:/],
    [{ command: ['true'], collect: ['/tmp/../etc'] }, /^collect:/],
    [{ command: ['true'], collect: ['/'] }, /^collect:/],
    [{ command: ['true'], files: [{ guestPath: '/a', hostPath: '/nonexistent/ghost-vm-file' }] }, /host path does not exist/],
  ];
  for (const [opts, msg] of bad) {
    assert.throws(() => validateVmOptions(opts), (e: unknown) => e instanceof InputError && msg.test(e.message), JSON.stringify(opts));
  }
  assert.doesNotThrow(() => validateVmOptions({ command: ['true'], cpus: 2, memMb: 512, timeoutMs: 1000 }));
});

const k = kernelFiles();
test('extract-vmlinux.sh turns the cached bzImage into an ELF whose .BTF is the cached BTF', { skip: existsSync(k.vmlinuz) && existsSync(k.btf) ? false : 'no VM kernel cached (npm run setup)', timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ghost-vmlinux-'));
  try {
    const elf = join(dir, 'vmlinux');
    execFileSync('bash', [join(vmScriptsDir(), 'extract-vmlinux.sh'), k.vmlinuz, elf]);
    assert.deepEqual([...readFileSync(elf).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    const btf = readFileSync(k.btf);
    assert.deepEqual([...btf.subarray(0, 2)], [0x9f, 0xeb], 'BTF magic');
    const objcopy = ['llvm-objcopy-19', 'llvm-objcopy', 'objcopy'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
    if (objcopy) {
      execFileSync(objcopy, ['-O', 'binary', '--only-section=.BTF', elf, join(dir, 'btf')]);
      assert.ok(readFileSync(join(dir, 'btf')).equals(btf));
    }
    // A file that is not a bzImage is refused with a reason.
    writeFileSync(join(dir, 'junk'), Buffer.alloc(4096, 1));
    const r = spawnSync('bash', [join(vmScriptsDir(), 'extract-vmlinux.sh'), join(dir, 'junk'), join(dir, 'out')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not a bzImage/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diagnose() names the cause of a dead guest from its console', () => {
  const end = { timedOut: false, ready: true, killedFromOutside: false, qemuExit: 0 };
  // Lines as the 7.3 kernel prints them (int3 oops under multi-threaded TCG, from a real run).
  const int3 = [
    '[   12.345678] Oops: int3: 0000 [#1] SMP NOPTI',
    '[   12.345700] CPU: 1 UID: 0 PID: 171 Comm: alps-loader Not tainted 7.3.4+deb13-cloud-amd64 #1',
    '[   12.345800] RIP: 0010:scx_allow_ttwu_queue+0xa/0x50',
    '[   12.346000] Kernel panic - not syncing: Fatal exception in interrupt',
  ].join('\n');
  const d = diagnose(int3, end);
  assert.equal(d.kind, 'oops');
  assert.match(d.cause, /^kernel oops at scx_allow_ttwu_queue\+0xa: Oops: int3: 0000 \(then panic: Fatal exception in interrupt\)$/);
  assert.match(d.hint ?? '', /icount/);

  const hang = '[ 40.1] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [node:180]\n[ 40.2] RIP: 0010:smp_call_function_many_cond+0x33e/0x4a0';
  const h = diagnose(hang, end);
  assert.equal(h.kind, 'hang');
  assert.match(h.cause, /smp_call_function_many_cond\+0x33e.*soft lockup/);
  assert.match(h.hint ?? '', /cross-CPU call/);

  assert.equal(diagnose('[ 9.1] node invoked oom-killer: gfp_mask=0x140cca\n[ 9.2] Out of memory: Killed process 99 (node)', end).kind, 'oom');
  const p = diagnose('[ 3.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100', end);
  assert.equal(p.kind, 'panic');
  assert.match(p.hint ?? '', /init/);
  assert.equal(diagnose('', { ...end, timedOut: true }).kind, 'timeout');
  assert.equal(diagnose('', { ...end, killedFromOutside: true }).kind, 'killed');
  assert.match(diagnose('', { ...end, ready: false, qemuExit: 1 }).cause, /before the guest printed anything/);
  assert.equal(diagnose('[ 1.0] all quiet\n', end).kind, 'unknown');
  assert.equal(consoleTail('a\n\nb\r\nc\n', 2), 'b\nc');
  // A crash dump longer than the tail: the quote reaches back to the crash's first line (within max).
  const dump = ['boot', 'Kernel panic - not syncing: sysrq triggered crash', ...Array.from({ length: 40 }, (_, i) => `frame ${i}`)].join('\n');
  assert.equal(consoleTail(dump, 30).split('\n')[0], 'Kernel panic - not syncing: sysrq triggered crash');
  assert.equal(consoleTail(dump, 30, 35).split('\n').length, 30, 'beyond max: the plain tail');
});

test('VmError quotes the cause, the hint and the console tail', () => {
  const con = Array.from({ length: 50 }, (_, i) => `[ ${i}.0] line ${i}`).join('\n') + '\n[ 51.0] Kernel panic - not syncing: sysrq triggered crash\n';
  const e = new VmError('the VM died after 1.0 s of the command (TCG, icount clock)', con, '', diagnose(con, { timedOut: false, ready: true, killedFromOutside: false, qemuExit: 0 }), 'tcg', 'icount');
  assert.match(e.message, /^the VM died after 1\.0 s of the command \(TCG, icount clock\): kernel panic: sysrq triggered crash\n/);
  assert.match(e.message, /guest console \(last lines\):\n(.*\n){29}\[ 51\.0\] Kernel panic/);
  assert.doesNotMatch(e.message, /line 20\n/);
  assert.equal(e.clock, 'icount');
});

test('the cache lives in the user cache directory, never in the package', () => {
  assert.equal(cacheRoot({ GHOST_ALPS_CACHE_DIR: '/c/own', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c/own');
  assert.equal(cacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/ghost-alps');
  // A relative XDG_CACHE_HOME is invalid by the XDG spec and ignored.
  assert.equal(cacheRoot({ XDG_CACHE_HOME: 'rel', HOME: '/h' }), '/h/.cache/ghost-alps');
  assert.equal(cacheRoot({ HOME: '/h' }), '/h/.cache/ghost-alps');
  assert.equal(vmCacheDir({ HOME: '/h' }), '/h/.cache/ghost-alps/vm');
  assert.equal(vmCacheDir({ HOME: '/h', GHOST_ALPS_VM_CACHE: '/v' }), '/v');
  assert.ok(!vmCacheDir().startsWith(projectRoot() + '/'), `${vmCacheDir()} is inside the package`);
  // fetch-kernel.sh applies the same rule (it prints its help without touching the network).
  const script = readFileSync(join(vmScriptsDir(), 'fetch-kernel.sh'), 'utf8');
  assert.match(script, /XDG_CACHE_HOME:-.*ghost-alps/);
  assert.match(script, /\$HOME\/\.cache\/ghost-alps/);
});

test('qemu command line: icount means single-threaded TCG with tsc=reliable; KVM keeps its own clock', () => {
  const base = { cpus: 2, memMb: 1024, vmlinuz: '/k', initrd: '/i', kernelArgs: ['x=1'], console: '/c', ports: [{ name: 'ghost.ctl', path: '/p' }] };
  const ic = qemuArgs({ ...base, accel: 'tcg', clock: 'icount' });
  const at = (a: string[], flag: string): string | undefined => a[a.indexOf(flag) + 1];
  assert.equal(at(ic, '-accel'), 'tcg');
  assert.match(at(ic, '-icount') ?? '', /^shift=\d+,sleep=off$/);
  assert.match(at(ic, '-append') ?? '', /\btsc=reliable x=1$/);
  const mt = qemuArgs({ ...base, accel: 'tcg', clock: 'host' });
  assert.equal(at(mt, '-accel'), 'tcg,thread=multi');
  assert.ok(!mt.includes('-icount'));
  const kvm = qemuArgs({ ...base, accel: 'kvm', clock: 'host' });
  assert.equal(at(kvm, '-accel'), 'kvm');
  assert.doesNotMatch(at(kvm, '-append') ?? '', /tsc=/);
  assert.equal(resolveClock('tcg', 'auto'), 'host');
  assert.equal(resolveClock('tcg', 'icount'), 'icount');
  assert.equal(resolveClock('kvm', undefined), 'host');
  assert.equal(resolveClock('tcg', 'host'), 'host');
  assert.throws(() => validateVmOptions({ command: ['true'], clock: 'icount', accel: 'kvm' }), (e: unknown) => e instanceof InputError && /needs TCG/.test(e.message));
  assert.throws(() => validateVmOptions({ command: ['true'], clock: 'wall' as never }), (e: unknown) => e instanceof InputError && /--clock/.test(e.message));
});

const cliMain = join(projectRoot(), fileURLToPath(import.meta.url).endsWith('.ts') ? 'src/cli/main.ts' : 'dist/src/cli/main.js');
const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), cliMain, ...args], { encoding: 'utf8', timeout: 60_000 });

test('`ghost-alps vm` alone lists its subcommands with examples and exits 2; so does vm run without a command', () => {
  const r = cli('vm');
  assert.equal(r.status, 2, r.stderr);
  for (const s of ['vm run', 'vm info', 'vm fetch-kernel', 'Examples:']) assert.ok(r.stderr.includes(s), `missing ${s}:\n${r.stderr}`);
  const h = cli('vm', '--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Examples:\n[^]*ghost-alps vm fetch-kernel && ghost-alps vm info/);
  const run = cli('vm', 'run');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /give the command after --/);
  const bad = cli('vm', 'run', '--clock', 'icount', '--accel', 'kvm', '--', 'true');
  assert.equal(bad.status, 2, bad.stderr);
});
