import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Accel, VmClock } from './types.js';

/**
 * The qemu process: its command line (machine, clock, kernel command line, channels) and its
 * lifetime (own process group, killed as a whole, never left behind when this process exits).
 */

export function qemuBinary(): string {
  return process.env['GHOST_ALPS_VM_QEMU'] ?? 'qemu-system-x86_64';
}

/**
 * Instructions -> guest nanoseconds under `-icount`: 2^shift ns per instruction. 0 makes the
 * guest a 1-GIPS machine; TCG executes fewer instructions per host second than that here, so
 * a busy guest's clock runs slower than the host's (a run takes longer than its guest time),
 * and an idle guest's clock jumps ahead (sleep=off), so sleeps cost no host time.
 */
export const ICOUNT_SHIFT = 0;

/** ICOUNT_SHIFT, or GHOST_ALPS_VM_ICOUNT_SHIFT (0..10) for experiments. */
export function icountShift(): number {
  const env = process.env['GHOST_ALPS_VM_ICOUNT_SHIFT'];
  if (env === undefined || env === '') return ICOUNT_SHIFT;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new Error(`GHOST_ALPS_VM_ICOUNT_SHIFT=${env}: expected an integer in 0..10`);
  return n;
}

/**
 * qboot (a minimal firmware that only knows how to start a Linux kernel) saves ~0.7 s per boot
 * over SeaBIOS under TCG; SeaBIOS remains the fallback when the ROM is not installed.
 */
export function firmwareArgs(): string[] {
  const env = process.env['GHOST_ALPS_VM_BIOS'];
  if (env !== undefined) return env ? ['-bios', env] : [];
  const qboot = '/usr/share/qemu/qboot.rom';
  return existsSync(qboot) ? ['-bios', qboot] : [];
}

/**
 * Which clock a run uses when the caller says 'auto' (or GHOST_ALPS_VM_CLOCK): 'host'. icount
 * removes the multi-threaded-TCG crash but runs all vCPUs on one host thread in turns, which
 * delays cross-vCPU preemption to the next turn (a learned 2-ms slice ran 2-8 ms) and makes
 * CPU-heavy guests ~10x slower; so it is opt-in, for runs that attach schedulers but do not
 * measure sub-tick timing (docs/vm.md, "Clock").
 */
export function resolveClock(_accel: Accel, asked: VmClock | 'auto' | undefined): VmClock {
  const env = process.env['GHOST_ALPS_VM_CLOCK'];
  const want = asked && asked !== 'auto' ? asked : env === 'icount' || env === 'host' ? env : 'auto';
  return want === 'auto' ? 'host' : want;
}

/**
 * The guest kernel's command line. `tsc=reliable` under TCG: every vCPU's TSC is derived from
 * one host clock (the host's TSC, or the instruction count under icount), so the TSC is
 * synchronised and constant-rate by construction, but the emulated CPU lacks the flags that
 * say so (constant_tsc, nonstop_tsc) and the kernel keeps the clocksource watchdog on it. On
 * a loaded host the watchdog's HPET reads are delayed, it declares the TSC unstable, and
 * sched_clock's static key is live-patched while the other vCPU runs that code (the int3
 * oops at sched_clock_cpu+0x9). Under KVM the guest uses kvm-clock, whose stability the host
 * reports, so the kernel's own choice stands.
 */
export function kernelCmdline(accel: Accel, extra: readonly string[]): string {
  const words = ['console=ttyS0', 'quiet', 'panic=-1', 'rdinit=/init', 'mitigations=off'];
  if (accel === 'tcg') words.push('tsc=reliable');
  return [...words, ...extra].join(' ');
}

export interface QemuArgsInput {
  accel: Accel;
  clock: VmClock;
  cpus: number;
  memMb: number;
  vmlinuz: string;
  initrd: string;
  kernelArgs: readonly string[];
  /** Files qemu writes each channel to. */
  console: string;
  ports: readonly { name: string; path: string }[];
}

export function qemuArgs(i: QemuArgsInput): string[] {
  const cpuModel = process.env['GHOST_ALPS_VM_CPU'] ?? (i.accel === 'kvm' ? 'host' : 'max');
  // icount implies single-threaded TCG (one host thread runs every vCPU in turn); 'host'
  // under TCG is multi-threaded TCG, one host thread per vCPU.
  const accelArgs =
    i.accel === 'kvm'
      ? ['-accel', 'kvm']
      : i.clock === 'icount'
        ? ['-accel', 'tcg', '-icount', `shift=${icountShift()},sleep=off`]
        : ['-accel', 'tcg,thread=multi'];
  return [
    ...firmwareArgs(),
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-monitor', 'none'],
    ...accelArgs,
    ...['-cpu', cpuModel, '-smp', String(i.cpus), '-m', String(i.memMb)],
    ...['-kernel', i.vmlinuz, '-initrd', i.initrd, '-append', kernelCmdline(i.accel, i.kernelArgs)],
    ...['-chardev', `file,id=con,path=${i.console}`, '-serial', 'chardev:con'],
    ...['-device', 'virtio-serial-pci,id=vs'],
    ...i.ports.flatMap((p, n) => [
      ...['-chardev', `file,id=p${n},path=${p.path}`],
      ...['-device', `virtserialport,bus=vs.0,chardev=p${n},name=${p.name}`],
    ]),
  ];
}

const active = new Set<number>();
let exitHook = false;

function track(pid: number): void {
  active.add(pid);
  if (!exitHook) {
    exitHook = true;
    // Never leave a VM behind when the caller exits (tests interrupted, CLI ^C).
    process.on('exit', () => {
      for (const p of active) killGroup(p);
    });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* exited already */
  }
}

export interface QemuProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** SIGKILL qemu's whole process group; remembers that we did it. */
  kill(): void;
  readonly killedByUs: boolean;
  /** Resolves when qemu has exited; untracks it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Extra seconds timeout(1) allows beyond the caller's timeout before it kills qemu itself. */
const KILL_GRACE_S = 15;

/**
 * Start qemu in its own process group under `timeout -s KILL`, so it cannot outlive a crashed
 * caller by more than the grace period.
 */
export function spawnQemu(args: string[], timeoutMs: number): QemuProcess {
  const hardLimitS = Math.ceil(timeoutMs / 1000) + KILL_GRACE_S;
  const child = spawn('timeout', ['-s', 'KILL', String(hardLimitS), qemuBinary(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let killedByUs = false;
  const pid = child.pid;
  if (pid !== undefined) track(pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => res({ code, signal }));
  }).finally(() => {
    if (pid !== undefined) active.delete(pid);
  });
  return {
    child,
    exited,
    get killedByUs() {
      return killedByUs;
    },
    kill() {
      killedByUs = true;
      if (pid !== undefined) killGroup(pid);
    },
  };
}
