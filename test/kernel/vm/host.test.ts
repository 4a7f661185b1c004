import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/core/errors.js';
import { CpioWriter } from '../../../src/vm/cpio.js';
import { kernelFiles, vmScriptsDir } from '../../../src/vm/paths.js';
import { shQuote, validateVmOptions } from '../../../src/vm/run.js';

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
