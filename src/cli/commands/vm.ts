import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InputError, UnsupportedError } from '../../core/errors.js';
import { kernelFiles, kernelRelease, vmCacheDir, vmScriptsDir } from '../../vm/paths.js';
import { VM_CLOCKS, VM_DEFAULTS, validateVmOptions } from '../../vm/options.js';
import type { VmClock, VmFile } from '../../vm/types.js';
import { safeText } from '../../core/terminal.js';
import { UsageError } from '../errors.js';

interface RunArgs {
  cpus: number;
  mem: number;
  timeout: number;
  accel: string;
  clock: string;
  file: string[];
  collect: string[];
  env: string[];
  'kernel-arg': string[];
  console: boolean;
  json: boolean;
  cmd?: string[];
  '--'?: (string | number)[];
  _: (string | number)[];
}

// Plain lines (not yargs .example(), whose two-column layout breaks commands mid-line), short
// enough not to wrap, each explained by a shell comment above it so any line pastes as is.
const RUN_EXAMPLES = `Examples:
  # prints "disabled": the kernel has sched_ext, no BPF scheduler is loaded
  ghost-alps vm run -- cat /sys/kernel/sched_ext/state
  # prints 2 and the kernel release, then "exit 3"
  ghost-alps vm run --cpus 2 --timeout 60 -- sh -c 'nproc; uname -r; exit 3'; echo "exit $?"
  # copy a host file into the guest
  ghost-alps vm run --file ./package.json:/tmp/p.json -- wc -c /tmp/p.json
  # copy a guest directory back: writes ./vm-out/uname.txt
  ghost-alps vm run --collect /tmp/o:./vm-out -- sh -c 'mkdir /tmp/o; uname -r > /tmp/o/uname.txt'
  # one JSON object: exitCode, stdout, stderr, bootMs, ...
  ghost-alps vm run --json -- node -e 'console.log(process.version)'
  # instruction-counted guest clock: no TCG text-patching crash, guest sleeps cost no host time
  ghost-alps vm run --clock icount -- sh -c 'sleep 30; cat /proc/uptime'`;

const VM_EXAMPLES = `Subcommands:
  ghost-alps vm run [options] -- CMD   boot the sched_ext kernel, run CMD as root, exit with its code
  ghost-alps vm info [--json]          can VM runs work here? qemu, cached kernel, BTF, accelerator
  ghost-alps vm fetch-kernel           download Debian's sched_ext kernel into the cache (once)

Examples:
  # once per machine (also done by npm run setup in a checkout)
  ghost-alps vm fetch-kernel && ghost-alps vm info
  # prints "disabled": the kernel has sched_ext, no BPF scheduler is loaded
  ghost-alps vm run -- cat /sys/kernel/sched_ext/state
  # the real A/B: default scheduler vs ALPS on sched_ext in the VM
  ghost-alps compare --real --invocations 300`;

function parseFile(spec: string): VmFile {
  const i = spec.lastIndexOf(':');
  if (i <= 0 || i === spec.length - 1) throw new InputError(`--file ${spec}`, 'expected HOST_PATH:GUEST_PATH');
  const hostPath = spec.slice(0, i);
  const guestPath = spec.slice(i + 1);
  if (!existsSync(hostPath)) throw new InputError(`--file ${spec}`, `host path ${hostPath} does not exist`);
  return { hostPath, guestPath };
}

interface Collect {
  guest: string;
  host: string;
}

function parseCollect(spec: string): Collect {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1) throw new InputError(`--collect ${spec}`, 'expected GUEST_PATH:HOST_PATH');
  const guest = posix.normalize(spec.slice(0, i)).replace(/\/+$/, '');
  if (!guest.startsWith('/')) throw new InputError(`--collect ${spec}`, 'the guest path must be absolute');
  return { guest, host: spec.slice(i + 1) };
}

/** Write the files the guest sent back: GUEST itself -> HOST, GUEST/x/y -> HOST/x/y. */
function writeCollected(specs: Collect[], collected: Record<string, Buffer>): string[] {
  const missing: string[] = [];
  for (const c of specs) {
    let n = 0;
    for (const [path, content] of Object.entries(collected)) {
      const rel = path === c.guest ? '' : path.startsWith(`${c.guest}/`) ? path.slice(c.guest.length + 1) : undefined;
      if (rel === undefined) continue;
      const dest = rel ? join(c.host, rel) : c.host;
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, content);
      n++;
    }
    if (n === 0) missing.push(c.guest);
  }
  return missing;
}

function parseEnv(spec: string): [string, string] {
  const i = spec.indexOf('=');
  if (i <= 0) throw new InputError(`--env ${spec}`, 'expected NAME=VALUE');
  return [spec.slice(0, i), spec.slice(i + 1)];
}

/** Flag checks before any work (also the fuzz suite's entry point); returns the guest argv. */
function checkRunArgs(argv: RunArgs): string[] {
  const command = (argv['--']?.length ? argv['--'] : (argv.cmd ?? [])).map(String);
  if (command.length === 0) throw new UsageError('vm run: give the command after --, e.g. ghost-alps vm run -- uname -a');
  if (!Number.isFinite(argv.timeout) || argv.timeout <= 0) throw new InputError('--timeout', `must be a positive number of seconds, got ${argv.timeout}`);
  if (argv.clock === 'icount' && argv.accel === 'kvm') throw new UsageError('--clock icount and --accel kvm cannot be used together (icount needs TCG)');
  validateVmOptions({ command, cpus: argv.cpus, memMb: argv.mem, timeoutMs: argv.timeout * 1000 });
  for (const f of argv.file) parseFile(f);
  for (const c of argv.collect) parseCollect(c);
  for (const e of argv.env) parseEnv(e);
  return command;
}

const runCommand: CommandModule<object, RunArgs> & { check: (argv: RunArgs) => void } = {
  command: 'run [cmd..]',
  describe: 'boot the sched_ext kernel under qemu, run CMD as root in it, exit with its status',
  builder: (y: Argv) =>
    y
      .usage(
        `ghost-alps vm run [options] -- CMD [ARGS...]\n\nBoots Debian's sched_ext-enabled cloud kernel (cached by \`ghost-alps vm fetch-kernel\`) with busybox, node\n` +
          `and this project (dist/, build/Release/*.node, BPF objects, runtime node_modules) in an\ninitramfs, runs CMD in /project, streams its stdout/stderr here and exits with its exit code\n` +
          `(124 if --timeout expired). Uses KVM only where a probe boot showed it works, else TCG.\nA failed boot prints its cause and the guest console's last lines.\nThe guest has proc, sysfs, devtmpfs, debugfs, tracefs, bpffs and cgroup2 mounted; no network.\n\n${RUN_EXAMPLES}`,
      )
      .parserConfiguration({ 'populate--': true })
      .positional('cmd', { type: 'string', array: true, describe: 'command and arguments (put them after --)' })
      .option('cpus', { type: 'number', default: VM_DEFAULTS.cpus, describe: 'virtual CPUs' })
      .option('mem', { type: 'number', default: VM_DEFAULTS.memMb, describe: 'guest memory in MiB' })
      .option('timeout', { type: 'number', default: VM_DEFAULTS.timeoutMs / 1000, describe: 'seconds before the VM is killed (exit 124)' })
      .option('accel', { type: 'string', default: 'auto', choices: ['auto', 'kvm', 'tcg'], describe: 'qemu accelerator' })
      .option('clock', {
        type: 'string',
        default: 'auto',
        choices: [...VM_CLOCKS],
        describe: 'guest clock: host = host time (multi-threaded TCG or KVM); icount = counts instructions (TCG, one host thread: no text-patching crash, host load cannot change busy guest timings, coarse cross-vCPU preemption); auto = host',
      })
      .option('file', { type: 'string', array: true, default: [], describe: 'HOST_PATH:GUEST_PATH to copy into the guest (file or directory; repeatable)' })
      .option('collect', { type: 'string', array: true, default: [], describe: 'GUEST_PATH:HOST_PATH to copy back after the command (file or directory; repeatable)' })
      .option('env', { type: 'string', array: true, default: [], describe: 'NAME=VALUE for the command (repeatable)' })
      .option('kernel-arg', { type: 'string', array: true, default: [], describe: 'extra kernel command-line word (repeatable)' })
      .option('console', { type: 'boolean', default: false, describe: 'also stream the guest console (kernel log) to stderr' })
      .option('json', { type: 'boolean', default: false, describe: 'print {exitCode, stdout, stderr, bootMs, ...} as JSON instead of streaming' }),
  check: (argv: RunArgs) => {
    checkRunArgs(argv);
  },
  handler: async (argv) => {
    const command = checkRunArgs(argv);
    const [{ missingPrerequisite }, { runInVm }, { diagnose, consoleTail, VmError }] = await Promise.all([
      import('../../vm/availability.js'),
      import('../../vm/run.js'),
      import('../../vm/diagnose.js'),
    ]);
    const missing = missingPrerequisite();
    if (missing) throw new UnsupportedError('vm run', missing);
    const collects = argv.collect.map(parseCollect);
    const stream = !argv.json;
    // The VM runs in its own process group (so a timeout can kill all of it); forward ^C/TERM.
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const r = await runInVm({
      signal: ac.signal,
      command,
      cpus: argv.cpus,
      memMb: argv.mem,
      timeoutMs: argv.timeout * 1000,
      accel: argv.accel as 'auto' | 'kvm' | 'tcg',
      clock: argv.clock as VmClock | 'auto',
      files: argv.file.map(parseFile),
      collect: collects.map((c) => c.guest),
      env: Object.fromEntries(argv.env.map(parseEnv)),
      kernelArgs: argv['kernel-arg'],
      ...(stream ? { onStdout: (b: Buffer) => process.stdout.write(b), onStderr: (b: Buffer) => process.stderr.write(b) } : {}),
      ...(argv.console ? { onConsole: (b: Buffer) => process.stderr.write(b) } : {}),
    })
      .catch((e: unknown) => {
        if (e instanceof VmError) {
          // Multi-line on purpose: the cause, then the guest console's last lines.
          process.stderr.write(`ghost-alps vm: ${safeText(e.message, { keepNewlines: true })}\n`);
          return null;
        }
        if (!ac.signal.aborted) throw e;
        process.stderr.write('ghost-alps vm: interrupted; VM killed\n');
        return undefined;
      })
      .finally(() => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      });
    if (r === null) {
      process.exitCode = 1;
      return;
    }
    if (!r) {
      process.exitCode = 130;
      return;
    }
    const notCollected = writeCollected(collects, r.collected);
    for (const m of notCollected) process.stderr.write(`ghost-alps vm: --collect ${m}: no such file in the guest after the command\n`);
    if (argv.json) {
      const { console: con, collected, ...rest } = r;
      const files = Object.fromEntries(Object.entries(collected).map(([k, v]) => [k, v.length]));
      process.stdout.write(`${JSON.stringify({ ...rest, collectedBytes: files, consoleTail: con.slice(-4000) }, null, 2)}\n`);
    } else if (r.timedOut || r.exitCode !== 0) {
      // Say why when the kernel has something to say (an oops, a lockup, the OOM killer);
      // a command that merely exited non-zero gets no kernel log.
      const d = diagnose(r.console, { timedOut: r.timedOut, ready: Number.isFinite(r.bootMs), killedFromOutside: false, qemuExit: null });
      const kernelSaid = d.kind !== 'unknown' && d.kind !== 'timeout';
      if (r.timedOut) process.stderr.write(`ghost-alps vm: timed out after ${argv.timeout} s; VM killed${kernelSaid ? '' : ` (${d.cause})`}\n`);
      if (kernelSaid) {
        process.stderr.write(safeText(`ghost-alps vm: ${d.cause}${d.hint ? `\n  (${d.hint})` : ''}\nguest console (last lines):\n${consoleTail(r.console, 20)}\n`, { keepNewlines: true }));
      }
    }
    process.exitCode = r.exitCode;
  },
};

const infoCommand: CommandModule<object, { json: boolean }> = {
  command: 'info',
  describe: 'show whether VM runs work here: qemu, cached kernel, BTF path, accelerator',
  builder: (y: Argv) =>
    y
      .usage('ghost-alps vm info [--json]\n\nExample:\n  # {"ok": true, "accel": "tcg", ..., "cache": "~/.cache/ghost-alps/vm", "btf": ".../kernel/vmlinux.btf"}\n  ghost-alps vm info --json')
      .option('json', { type: 'boolean', default: false, describe: 'print as JSON' }),
  handler: async (argv) => {
    const { vmAvailability } = await import('../../vm/availability.js');
    const a = await vmAvailability();
    const k = kernelFiles();
    const info = {
      ...a,
      cache: vmCacheDir(),
      vmlinuz: existsSync(k.vmlinuz) ? k.vmlinuz : null,
      btf: existsSync(k.btf) ? k.btf : null,
      release: kernelRelease() ?? null,
    };
    if (argv.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    else {
      const lines = [
        `VM runs:  ${a.ok ? `available (${a.accel}: ${a.accelReason})` : `unavailable: ${a.reason}`}`,
        `kernel:   ${info.release ?? '(not cached)'}  ${info.vmlinuz ?? ''}`,
        `BTF:      ${info.btf ?? '(not extracted)'}`,
        `cache:    ${info.cache}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!a.ok) process.exitCode = 4;
  },
};

const fetchCommand: CommandModule<object, { refresh: boolean }> = {
  command: 'fetch-kernel',
  describe: "download Debian's newest sched_ext cloud kernel from trixie-backports into the cache (unpacked, never installed)",
  builder: (y: Argv) =>
    y
      .usage(
        'ghost-alps vm fetch-kernel [--refresh]\n\nDownloads linux-binary-unsigned-<release>-cloud-amd64 from trixie-backports with a private apt\n' +
          'state (the host\'s apt sources are untouched), unpacks it (never installs it) and extracts its\nBTF, into the cache shown by `ghost-alps vm info`. A second run does no network I/O;\n' +
          '--refresh checks the archive for a newer kernel. Needs apt-get, dpkg-deb and the Debian keyring.\n\nExamples:\n  ghost-alps vm fetch-kernel && ghost-alps vm info\n  GHOST_ALPS_CACHE_DIR=/var/cache/ghost-alps ghost-alps vm fetch-kernel --refresh',
      )
      .option('refresh', { type: 'boolean', default: false, describe: 'check the archive even if a kernel is cached' }),
  handler: (argv) => {
    const script = join(vmScriptsDir(), 'fetch-kernel.sh');
    if (!existsSync(script)) throw new UnsupportedError('vm fetch-kernel', `${script} is missing from this installation`);
    // The script resolves the cache directory by the same rule as src/vm/paths.ts; pass the
    // result so both agree even if the rule changes on one side.
    const r = spawnSync('bash', [script, ...(argv.refresh ? ['--refresh'] : [])], { stdio: 'inherit', env: { ...process.env, GHOST_ALPS_VM_CACHE: vmCacheDir() } });
    if (r.status !== 0) throw new UnsupportedError('vm fetch-kernel', `fetch-kernel.sh exited ${r.status ?? r.signal} (its message is above)`);
  },
};

export const vmCommand: CommandModule<object, object> = {
  command: 'vm',
  describe: 'run commands in a qemu VM with a sched_ext kernel (for real-kernel tests and A/B runs)',
  builder: (y: Argv) =>
    y
      .command(runCommand)
      .command(infoCommand)
      .command(fetchCommand)
      .usage(`ghost-alps vm <run|info|fetch-kernel>\n\n${VM_EXAMPLES}`),
  // `ghost-alps vm` alone: a usage error (exit 2) that shows what to type instead.
  handler: () => {
    process.stderr.write(`ghost-alps vm: give a subcommand.\n\n${VM_EXAMPLES}\n`);
    process.exitCode = 2;
  },
};

export default vmCommand;
