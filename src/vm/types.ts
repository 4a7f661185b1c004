/**
 * Types shared by the VM modules (run, boot, accel, qemu, initrd). Kept apart so that the
 * accelerator probe (accel.ts, which boots a VM) and the run entry point (run.ts, which asks
 * accel.ts which accelerator to use) both depend on this file rather than on each other.
 */

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  accel: Accel;
  /** Why this accelerator (shown by `ghost-alps vm info`). */
  reason: string;
}

/**
 * What the guest's clock follows (docs/vm.md, "Clock"):
 *   icount  TCG only: guest time advances with the instructions executed (`-icount
 *           shift=…,sleep=off`, one host thread running every vCPU in turn): no cross-vCPU
 *           text-patching race, and a busy host slows busy guest work down without changing
 *           what the guest measures; but cross-vCPU preemption waits for the next turn.
 *   host    guest time is host time: multi-threaded TCG (one host thread per vCPU), or KVM.
 *           Faithful sub-ms scheduling; the guest's timings move with the host's load, and
 *           under TCG live text patching can crash the guest (retried by the callers).
 *   auto    host (the default; GHOST_ALPS_VM_CLOCK overrides).
 */
export type VmClock = 'icount' | 'host';

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
  /** 'auto' (default, or GHOST_ALPS_VM_CLOCK): host. See VmClock. */
  clock?: VmClock | 'auto';
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
  /**
   * One-line boot progress ("booting Debian 7.3 sched_ext kernel under qemu (TCG, icount)…"):
   * a function receives the lines; true writes them to stderr; 'auto' (default) writes them to
   * stderr only when stderr is a terminal.
   */
  progress?: boolean | 'auto' | ((line: string) => void);
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
  clock: VmClock;
  initrdBytes: number;
  /** Guest path -> content of each regular file under the `collect` paths. */
  collected: Record<string, Buffer>;
}
