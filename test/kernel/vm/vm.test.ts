import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelFiles, projectRoot, runInVm, vmAvailability, VmError } from '../../../src/vm/index.js';

// Each test boots the Debian sched_ext kernel under qemu (5-60 s under TCG, depending on how
// busy the host is). Six boots in all, run one after another; skipped with the reason when qemu
// or the cached kernel is missing (`ghost-alps vm fetch-kernel` fetches it).
const avail = await vmAvailability();
const skip = avail.ok ? false : avail.reason;
const T = { skip, timeout: 300_000 };
// icount (docs/vm.md, "Clock"): these tests measure no sub-ms timing, and under the default
// multi-threaded TCG a sched_ext attach/detach can crash the guest (live text patching race).
const clock = 'icount' as const;

test('runs a command, keeps stdout and stderr apart, returns its exit code, sees sched_ext', T, async () => {
  const r = await runInVm({
    // The background sleep keeps stdout open after the command exits: the guest must still end
    // (it gives leftovers 1 s, then kills them) instead of waiting for the timeout.
    // A busy loop, not a sleep: under the icount clock an idle guest's time jumps ahead, so a
    // sleeping leftover would end by itself.
    command: ['sh', '-c', 'cat /sys/kernel/sched_ext/state; ls /sys/kernel/sched_ext; nproc; cat /sys/devices/system/clocksource/clocksource0/current_clocksource /proc/cmdline; echo only-err >&2; (while :; do :; done) & exit 7'],
    cpus: 2,
    clock,
    timeoutMs: 240_000,
  });
  assert.equal(r.exitCode, 7);
  assert.equal(r.timedOut, false, `a leftover background process held the VM until the timeout; console:\n${r.console.slice(-2000)}`);
  const lines = r.stdout.split('\n');
  // ls prints one name per line: stdout is a pipe in the guest, not the serial tty.
  // No BPF scheduler is loaded: the kernel has sched_ext (the state file exists) but it is idle.
  assert.equal(lines[0], 'disabled');
  for (const f of ['enable_seq', 'state', 'switch_all']) assert.ok(lines.includes(f), `sched_ext sysfs lacks ${f}: ${r.stdout}`);
  assert.ok(lines.includes('2'), `nproc should be 2: ${r.stdout}`);
  if (r.accel === 'tcg') {
    // The clock choice of docs/vm.md: icount by default, the TSC as clocksource, no watchdog on it.
    assert.equal(r.clock, 'icount');
    assert.ok(lines.includes('tsc'), `clocksource should be tsc: ${r.stdout}`);
    assert.match(r.stdout, /^console=ttyS0 .*\btsc=reliable\b/m);
    assert.doesNotMatch(r.console, /Marking clocksource 'tsc' as unstable/);
  }
  assert.equal(r.stderr, 'only-err\n');
  assert.ok(Number.isFinite(r.bootMs) && r.bootMs > 0 && r.bootMs < r.wallMs, `bootMs ${r.bootMs} wallMs ${r.wallMs}`);
  assert.ok(r.guestBootMs > 0, `guestBootMs ${r.guestBootMs}`);
});

test('guest has node, bpffs/cgroup2/debugfs/tracefs, the files given, exact output, the cached BTF; files come back', T, async () => {
  const script = [
    'set -e',
    'grep -oE " (bpf|cgroup2|debugfs|tracefs) " /proc/mounts | sort -u | tr -d " " | tr "\\n" ,; echo',
    'sha256sum /sys/kernel/btf/vmlinux | cut -d" " -f1',
    'node -e "console.log(process.version, require(\'/project/package.json\').name)"',
    'cat /tmp/in/data.txt',
    'ls /tmp/fx | tr "\\n" ,; echo',
    'printf "%s\\n" "$1"',
    'seq 1 40000',
    'mkdir -p /tmp/res/sub && printf "{\\"a\\":1}" > /tmp/res/r.json && head -c 3000 /dev/zero > /tmp/res/sub/z.bin',
  ].join('\n');
  const tricky = `it's "quoted" $HOME \`x\` \\ end`;
  const data = 'line one\n\ttab ünïcödé\n';
  const r = await runInVm({
    command: ['sh', '/tmp/in/t.sh', tricky],
    files: [
      { guestPath: '/tmp/in/t.sh', content: script },
      { guestPath: '/tmp/in/data.txt', content: data },
      { guestPath: '/tmp/fx', hostPath: join(projectRoot(), 'test', 'kernel', 'vm', 'fixtures') },
    ],
    collect: ['/tmp/res', '/tmp/in/data.txt', '/no/such/file'],
    clock,
    timeoutMs: 240_000,
  });
  assert.equal(r.stderr, '');
  // Files asked back after the command: whole directories, single files; missing ones absent.
  assert.deepEqual(Object.keys(r.collected).sort(), ['/tmp/in/data.txt', '/tmp/res/r.json', '/tmp/res/sub/z.bin']);
  assert.equal(r.collected['/tmp/res/r.json']?.toString(), '{"a":1}');
  assert.ok(r.collected['/tmp/res/sub/z.bin']?.equals(Buffer.alloc(3000)));
  assert.equal(r.collected['/tmp/in/data.txt']?.toString(), data);
  assert.equal(r.exitCode, 0);
  const [mounts, btfSha, nodeLine, ...rest] = r.stdout.split('\n');
  assert.equal(mounts, 'bpf,cgroup2,debugfs,tracefs,');
  const hostBtf = kernelFiles().btf;
  if (existsSync(hostBtf)) {
    // The BTF extracted on the host from the bzImage is what the guest kernel exports.
    assert.equal(btfSha, createHash('sha256').update(readFileSync(hostBtf)).digest('hex'));
  }
  assert.equal(nodeLine, `${process.version} ghost-alps`);
  const expected = `${data}min_loader.c,min_sched.bpf.c,\n${tricky}\n${Array.from({ length: 40000 }, (_, i) => i + 1).join('\n')}\n`;
  // ~230 KB through FIFO -> virtio-serial port -> host file: every byte arrives, unaltered.
  assert.equal(rest.join('\n'), expected);
});

test('timeout kills a hung guest and reports exit code 124', T, async () => {
  const t0 = performance.now();
  // A spinning guest (a sleeping one would finish: the icount clock skips idle time).
  const r = await runInVm({ command: ['sh', '-c', 'echo started; while :; do :; done'], clock, timeoutMs: 8_000 });
  const wall = performance.now() - t0;
  assert.equal(r.timedOut, true);
  assert.equal(r.exitCode, 124);
  assert.ok(wall < 8_000 + 5_000, `returned ${Math.round(wall)} ms after start; the kill should be immediate`);
});

test('a guest kernel crash is an error carrying the console, not an exit code', T, async () => {
  // sysrq-c crashes the kernel; panic=-1 reboots and -no-reboot ends qemu without an EXIT line.
  await assert.rejects(
    runInVm({ command: ['sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 30'], clock, timeoutMs: 240_000 }),
    (e: unknown) => {
      assert.ok(e instanceof VmError, String(e));
      // The message names the cause and quotes the console's last lines.
      assert.match(e.message, /the VM died after .* of the command .*: kernel (panic|oops)/);
      assert.match(e.message, /guest console \(last lines\):\n[^]*sysrq/i);
      assert.ok(e.diagnosis?.kind === 'panic' || e.diagnosis?.kind === 'oops', `diagnosis ${JSON.stringify(e.diagnosis)}`);
      assert.match(e.console, /sysrq|Kernel panic/i);
      return true;
    },
  );
});

/** Why the minimal scheduler cannot be built here, or undefined if it can. */
function toolchainMissing(): string | undefined {
  const ok = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  if (!ok(process.env['CLANG'] ?? 'clang-19', ['--version'])) return 'clang-19 not installed';
  if (!ok('bpftool', ['version'])) return 'bpftool not installed';
  if (!ok('cc', ['--version'])) return 'no C compiler';
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libbpf.a')) return 'static libbpf (libbpf-dev >= 1.4) not installed';
  if (!existsSync(kernelFiles().btf)) return 'no guest BTF cached';
  return undefined;
}

test('a minimal sched_ext scheduler built against the cached BTF attaches, schedules and detaches in the guest', { skip: skip || toolchainMissing() || false, timeout: 300_000 }, async () => {
  const fixtures = join(projectRoot(), 'test', 'kernel', 'vm', 'fixtures');
  const dir = mkdtempSync(join(tmpdir(), 'ghost-minsched-'));
  try {
    // vmlinux.h from the guest kernel's BTF as extracted on the host. Kernels >= 6.19 embed
    // tagged anonymous structs (`struct foo;` members), which need -fms-extensions.
    writeFileSync(join(dir, 'vmlinux.h'), execFileSync('bpftool', ['btf', 'dump', 'file', kernelFiles().btf, 'format', 'c'], { maxBuffer: 64 << 20 }));
    const clang = process.env['CLANG'] ?? 'clang-19';
    execFileSync(clang, ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-fms-extensions', '-Wno-microsoft-anon-tag', `-I${dir}`, '-c', join(fixtures, 'min_sched.bpf.c'), '-o', join(dir, 'min_sched.bpf.o')]);
    execFileSync('cc', ['-O2', '-static', join(fixtures, 'min_loader.c'), '-o', join(dir, 'min_loader'), '-l:libbpf.a', '-lelf', '-lz', '-lzstd'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const r = await runInVm({
      command: ['/tmp/ms/min_loader', '/tmp/ms/min_sched.bpf.o'],
      files: [
        { guestPath: '/tmp/ms/min_loader', hostPath: join(dir, 'min_loader') },
        { guestPath: '/tmp/ms/min_sched.bpf.o', hostPath: join(dir, 'min_sched.bpf.o') },
      ],
      clock,
      timeoutMs: 240_000,
    });
    assert.equal(r.exitCode, 0, `loader failed: ${r.stderr}`);
    const kv = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
    assert.deepEqual(kv, { before: 'disabled', state: 'enabled', ops: 'ghostvm_min', switch_all: '1', children: '20', still: 'enabled', after: 'disabled', enable_seq: '1' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`ghost-alps vm run` streams stdout/stderr and exits with the guest command\'s code', T, async () => {
  // The CLI next to this test: src/cli/main.ts under tsx, dist/src/cli/main.js when compiled.
  const ts = fileURLToPath(import.meta.url).endsWith('.ts');
  const cli = join(projectRoot(), ts ? 'src/cli/main.ts' : 'dist/src/cli/main.js');
  const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), cli, 'vm', 'run', '--clock', 'icount', '--timeout', '240', '--', 'sh', '-c', 'echo out; echo err >&2; exit 5'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  assert.deepEqual({ code, out, err }, { code: 5, out: 'out\n', err: 'err\n' });
});
