import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { InputError } from '../core/errors.js';
import { CpioWriter } from './cpio.js';
import { baseLayer, projectLayer } from './layers.js';
import { kernelFiles } from './paths.js';
import { type Accel, resolveAccel } from './accel.js';

/**
 * Boot the cached sched_ext kernel under qemu with the project in an initramfs, run one
 * command as root in the guest, and return what it printed and its exit code.
 *
 * Channels, each written by qemu to its own file in the run directory, which this process
 * reads as it grows: the legacy UART ttyS0 is the console (kernel log); three virtio-serial
 * ports carry the command's stdout and stderr (unmixed) and the READY/EXIT control lines.
 * The result is read after qemu has exited, so no byte is lost.
 *
 * Bounds: the caller's timeout kills the whole process group (SIGKILL); qemu also runs under
 * timeout(1) with a slightly later deadline, so a guest can never outlive a crashed caller.
 */

export interface VmFile {
  /** Absolute path inside the guest. */
  guestPath: string;
  /** Host file or directory (copied recursively) ... */
  hostPath?: string;
  /** ... or literal content. */
  content?: string | Buffer;
  /** File mode (default: host file's mode, or 0644 for content). */
  mode?: number;
}

export interface VmRunOptions {
  /** argv of the command; run by the guest's /bin/sh with cwd /project unless `cwd` says otherwise. */
  command: string[];
  cpus?: number;
  memMb?: number;
  timeoutMs?: number;
  files?: VmFile[];
  env?: Record<string, string>;
  cwd?: string;
  /** 'auto' (default, or GHOST_ALPS_VM_ACCEL): KVM only if a probe boot showed it works here. */
  accel?: Accel | 'auto';
  /**
   * Guest paths (files or directories) to copy back after the command has ended; every regular
   * file found under them is returned in `collected`. Missing paths are simply absent there.
   */
  collect?: string[];
  /** Extra kernel command-line words. */
  kernelArgs?: string[];
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  onConsole?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /** Internal (KVM probe): kill qemu as soon as its own stderr matches. */
  abortOnQemuStderr?: RegExp;
}

export interface VmRunResult {
  /** The command's exit status; 124 when the timeout killed the VM (as timeout(1) does). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Kernel log and init diagnostics (last 256 KiB). */
  console: string;
  /** Host wall time from spawning qemu to the guest's READY line (kernel + init). */
  bootMs: number;
  /** The guest's own uptime at READY. */
  guestBootMs: number;
  /** Host wall time from spawning qemu to its exit. */
  wallMs: number;
  /** Host time spent preparing the initramfs (cache check, copies). */
  prepareMs: number;
  timedOut: boolean;
  accel: Accel;
  initrdBytes: number;
  /** Guest path -> content of each regular file under the `collect` paths. */
  collected: Record<string, Buffer>;
}

export class VmError extends Error {
  override readonly name: string = 'VmError';
  constructor(
    message: string,
    readonly console: string,
    readonly qemuStderr: string,
  ) {
    super(`${message}${qemuStderr.trim() ? `\nqemu: ${qemuStderr.trim().slice(-2000)}` : ''}${console.trim() ? `\nguest console (tail):\n${console.slice(-3000)}` : ''}`);
  }
}

export const VM_DEFAULTS = { cpus: 2, memMb: 1024, timeoutMs: 600_000 } as const;
const CONSOLE_CAP = 256 * 1024;
const KILL_GRACE_S = 15;

export function validateVmOptions(o: Pick<VmRunOptions, 'command' | 'cpus' | 'memMb' | 'timeoutMs' | 'files' | 'collect'>): void {
  if (!Array.isArray(o.command) || o.command.length === 0 || o.command.some((a) => typeof a !== 'string')) {
    throw new InputError('command', 'give the command to run in the VM as a non-empty argv list (e.g. -- uname -a)');
  }
  if (o.command.some((a) => a.includes('\0'))) throw new InputError('command', 'arguments cannot contain NUL bytes');
  const int = (name: string, v: number | undefined, lo: number, hi: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) {
      throw new InputError(name, `must be an integer in [${lo}, ${hi}], got ${v}`);
    }
  };
  int('--cpus', o.cpus, 1, 64);
  // The initramfs (~115 MB) is held twice while the kernel unpacks it.
  int('--mem', o.memMb, 512, 65536);
  if (o.timeoutMs !== undefined && (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0)) {
    throw new InputError('--timeout', `must be a positive number of seconds, got ${o.timeoutMs / 1000}`);
  }
  for (const c of o.collect ?? []) {
    if (!posix.isAbsolute(c) || c.split('/').includes('..') || posix.normalize(c) === '/') {
      throw new InputError(`collect: ${c}`, 'must be an absolute guest path below / without ".."');
    }
  }
  for (const f of o.files ?? []) {
    if (!posix.isAbsolute(f.guestPath)) throw new InputError(`files: ${f.guestPath}`, 'guest path must be absolute');
    if ((f.hostPath === undefined) === (f.content === undefined)) {
      throw new InputError(`files: ${f.guestPath}`, 'give exactly one of hostPath and content');
    }
    if (f.hostPath !== undefined && !existsSync(f.hostPath)) {
      throw new InputError(`files: ${f.hostPath}`, 'host path does not exist');
    }
  }
}

/** POSIX-shell single quoting. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function commandScript(o: VmRunOptions): string {
  const lines = [`cd ${shQuote(o.cwd ?? '/project')} || exit 127`];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new InputError(`env: ${k}`, 'not a valid variable name');
    lines.push(`export ${k}=${shQuote(v)}`);
  }
  lines.push(`exec ${o.command.map(shQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function addHostPath(w: CpioWriter, guest: string, host: string, mode?: number): void {
  const st = statSync(host);
  if (st.isDirectory()) {
    w.dir(guest);
    for (const n of readdirSync(host).sort()) addHostPath(w, posix.join(guest, n), join(host, n));
  } else if (st.isFile()) w.file(guest, host, mode);
}

function appendFile(dst: number, src: string): void {
  const fd = openSync(src, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      let off = 0;
      while (off < n) off += writeSync(dst, buf, off, n - off);
    }
  } finally {
    closeSync(fd);
  }
}

/** Build the per-run initrd (base + project + run layers) in `dir`; returns its path. */
function prepareInitrd(dir: string, o: VmRunOptions): string {
  try {
    return assembleInitrd(dir, o);
  } catch (e) {
    // Another process may have pruned the cached layer between our lookup and our copy, or
    // rewritten a project file (a concurrent build) while we packed it: build once more.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !/shrank while packing/.test(String(e))) throw e;
    return assembleInitrd(dir, o);
  }
}

function assembleInitrd(dir: string, o: VmRunOptions): string {
  const base = baseLayer();
  const project = projectLayer();
  const runPath = join(dir, 'run.cpio');
  const w = new CpioWriter(runPath);
  try {
    w.data('/ghost-vm/cmd', commandScript(o), 0o755);
    if (o.collect?.length) {
      const rel = o.collect.map((c) => shQuote(posix.normalize(c).replace(/^\/+/, '')));
      w.data('/ghost-vm/collect.sh', `set -- ${rel.join(' ')}\n`);
    }
    for (const f of o.files ?? []) {
      if (f.content !== undefined) w.data(f.guestPath, f.content, f.mode ?? 0o644);
      else if (f.hostPath !== undefined) addHostPath(w, f.guestPath, f.hostPath, f.mode);
    }
    w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
  const initrd = join(dir, 'initrd.cpio');
  // copyFileSync uses copy_file_range (in-kernel, often reflinked) for the big base layer.
  copyFileSync(base.path, initrd);
  const fd = openSync(initrd, 'a');
  try {
    appendFile(fd, project.path);
    appendFile(fd, runPath);
  } finally {
    closeSync(fd);
  }
  return initrd;
}

/** Unpack the concatenated tar archives the guest sent back; guest path -> content. */
function readCollected(tarPath: string, into: string): Record<string, Buffer> {
  if (statSync(tarPath).size === 0) return {};
  mkdirSync(into);
  // -i: the guest sends one archive per requested path, back to back.
  const r = spawnSync('tar', ['-x', '-i', '-f', tarPath, '-C', into, '--no-same-owner'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`collect: cannot unpack what the guest sent: ${r.stderr || r.error?.message}`);
  const out: Record<string, Buffer> = {};
  const walk = (d: string, guest: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, posix.join(guest, e.name));
      else if (e.isFile()) out[posix.join(guest, e.name)] = readFileSync(p);
    }
  };
  walk(into, '/');
  return out;
}

/**
 * qboot (a minimal firmware that only knows how to start a Linux kernel) saves ~0.7 s per boot
 * over SeaBIOS under TCG; SeaBIOS remains the fallback when the ROM is not installed.
 */
function firmwareArgs(): string[] {
  const env = process.env['GHOST_ALPS_VM_BIOS'];
  if (env !== undefined) return env ? ['-bios', env] : [];
  const qboot = '/usr/share/qemu/qboot.rom';
  return existsSync(qboot) ? ['-bios', qboot] : [];
}

/**
 * Run directories hold a ~120 MB initrd; a caller killed with SIGKILL cannot remove its own.
 * Remove those left by processes that no longer exist (the directory name carries the pid).
 */
function removeStaleRunDirs(): void {
  try {
    for (const n of readdirSync(tmpdir())) {
      const m = /^ghost-vm-(\d+)-/.exec(n);
      if (!m?.[1] || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), n), { recursive: true, force: true });
      }
    }
  } catch {
    /* best effort */
  }
}

export function qemuBinary(): string {
  return process.env['GHOST_ALPS_VM_QEMU'] ?? 'qemu-system-x86_64';
}

const active = new Set<number>();
let exitHook = false;
function track(pid: number): void {
  active.add(pid);
  if (!exitHook) {
    exitHook = true;
    // Never leave a VM behind when the caller exits (tests interrupted, CLI ^C).
    process.on('exit', () => {
      for (const p of active) {
        try {
          process.kill(-p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
}

/**
 * One channel's output. qemu writes it to a regular file and we read the new bytes as they
 * arrive. A file, not a socket or pipe: qemu's UART drops a byte after a few failed
 * non-blocking writes, which happens when a busy host reads a socket too slowly; a write to a
 * regular file never fails that way.
 */
class Channel {
  readonly chunks: Buffer[] = [];
  private fd: number | undefined;
  private offset = 0;
  private readonly buf = Buffer.allocUnsafe(1 << 16);

  constructor(
    readonly path: string,
    private readonly onData: (b: Buffer) => void,
  ) {
    closeSync(openSync(path, 'w'));
  }

  /** Read whatever qemu appended since the last call. */
  drain(): void {
    this.fd ??= openSync(this.path, 'r');
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) return;
      this.offset += n;
      const b = Buffer.from(this.buf.subarray(0, n));
      this.chunks.push(b);
      this.onData(b);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** How often the output files are read while the VM runs (bounds streaming latency only). */
const POLL_MS = 20;

export async function runInVm(opts: VmRunOptions): Promise<VmRunResult> {
  validateVmOptions(opts);
  const o = { ...VM_DEFAULTS, ...opts };
  const k = kernelFiles();
  const t0 = performance.now();
  const accel = opts.accel && opts.accel !== 'auto' ? opts.accel : (await resolveAccel()).accel;
  removeStaleRunDirs();
  const dir = mkdtempSync(join(tmpdir(), `ghost-vm-${process.pid}-`));
  try {
    const initrd = prepareInitrd(dir, o);
    const initrdBytes = statSync(initrd).size;
    const prepareMs = performance.now() - t0;

    let consoleText = '';
    const consoleChunk = (b: Buffer): void => {
      consoleText += b.toString('utf8');
      if (consoleText.length > 2 * CONSOLE_CAP) consoleText = consoleText.slice(-CONSOLE_CAP);
      o.onConsole?.(b);
    };
    let ready: { hostMs: number; guestMs: number } | undefined;
    let exitCode: number | undefined;
    let ctlBuf = '';
    let spawnAt = 0;
    const ctl = (b: Buffer): void => {
      ctlBuf += b.toString('latin1');
      let nl: number;
      while ((nl = ctlBuf.indexOf('\n')) >= 0) {
        const line = ctlBuf.slice(0, nl).trim();
        ctlBuf = ctlBuf.slice(nl + 1);
        const r = /^GHOSTVM READY ([\d.]+)$/.exec(line);
        if (r?.[1]) ready = { hostMs: performance.now() - spawnAt, guestMs: Number(r[1]) * 1000 };
        const e = /^GHOSTVM EXIT (\d+)$/.exec(line);
        if (e?.[1]) exitCode = Number(e[1]);
      }
    };
    const con = new Channel(join(dir, 'console.out'), consoleChunk);
    const out = new Channel(join(dir, 'stdout.out'), (b) => o.onStdout?.(b));
    const err = new Channel(join(dir, 'stderr.out'), (b) => o.onStderr?.(b));
    const ctlCh = new Channel(join(dir, 'ctl.out'), ctl);
    const filesPath = join(dir, 'files.tar');
    closeSync(openSync(filesPath, 'w'));
    const chans = [con, out, err, ctlCh];

    const cpuModel = process.env['GHOST_ALPS_VM_CPU'] ?? (accel === 'kvm' ? 'host' : 'max');
    const cpuArgs = ['-accel', accel, '-cpu', cpuModel];
    const append = ['console=ttyS0', 'quiet', 'panic=-1', 'rdinit=/init', 'mitigations=off', ...(o.kernelArgs ?? [])];
    const args = [
      ...firmwareArgs(),
      ...['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-monitor', 'none'],
      ...cpuArgs,
      ...['-smp', String(o.cpus), '-m', String(o.memMb)],
      ...['-kernel', k.vmlinuz, '-initrd', initrd, '-append', append.join(' ')],
      ...['-chardev', `file,id=con,path=${con.path}`, '-serial', 'chardev:con'],
      ...['-device', 'virtio-serial-pci,id=vs'],
      ...[out, err, ctlCh].flatMap((c, i) => [
        ...['-chardev', `file,id=p${i},path=${c.path}`],
        ...['-device', `virtserialport,bus=vs.0,chardev=p${i},name=ghost.${['stdout', 'stderr', 'ctl'][i]}`],
      ]),
      ...['-chardev', `file,id=pf,path=${filesPath}`, '-device', 'virtserialport,bus=vs.0,chardev=pf,name=ghost.files'],
    ];
    const hardLimitS = Math.ceil(o.timeoutMs / 1000) + KILL_GRACE_S;
    spawnAt = performance.now();
    const child = spawn('timeout', ['-s', 'KILL', String(hardLimitS), qemuBinary(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let qemuErr = '';
    let timedOut = false;
    let aborted = false;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* exited already */
      }
    };
    if (child.pid !== undefined) track(child.pid);
    const onQemuOut = (b: Buffer): void => {
      qemuErr += b.toString('utf8');
      if (qemuErr.length > 64 * 1024) qemuErr = qemuErr.slice(-32 * 1024);
      if (o.abortOnQemuStderr?.test(qemuErr)) {
        aborted = true;
        killGroup();
      }
    };
    child.stdout.on('data', onQemuOut);
    child.stderr.on('data', onQemuOut);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, o.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let pollError: unknown;
    const poll = setInterval(() => {
      try {
        for (const c of chans) c.drain();
      } catch (e) {
        // Reported after qemu exits; killing the VM now keeps a broken run from running on.
        pollError ??= e;
        killGroup();
      }
    }, POLL_MS);

    let status: { code: number | null; signal: NodeJS.Signals | null };
    try {
      status = await new Promise((res, rej) => {
        child.on('error', rej);
        child.on('close', (code, signal) => res({ code, signal }));
      });
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
      o.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) active.delete(child.pid);
    }
    const wallMs = performance.now() - spawnAt;
    // qemu is gone: what is in the files now is everything the guest sent.
    for (const c of chans) {
      try {
        if (!pollError) c.drain();
      } finally {
        c.close();
      }
    }
    if (pollError) throw pollError;

    const result: VmRunResult = {
      exitCode: exitCode ?? 124,
      stdout: Buffer.concat(out.chunks).toString('utf8'),
      stderr: Buffer.concat(err.chunks).toString('utf8'),
      console: consoleText.slice(-CONSOLE_CAP),
      bootMs: ready?.hostMs ?? NaN,
      guestBootMs: ready?.guestMs ?? NaN,
      wallMs,
      prepareMs,
      timedOut,
      accel,
      initrdBytes,
      collected: exitCode === undefined ? {} : readCollected(filesPath, join(dir, 'collected')),
    };
    if (timedOut) return result;
    if (aborted) throw new VmError('VM run aborted', consoleText, qemuErr);
    if (exitCode === undefined) {
      const why =
        status.code === 137 || status.signal === 'SIGKILL'
          ? 'qemu was killed'
          : ready
            ? 'the guest stopped without reporting an exit code (kernel panic or init crash?)'
            : `the guest never finished booting (qemu exit ${status.code ?? status.signal})`;
      throw new VmError(why, consoleText, qemuErr);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
