import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootVm } from './boot.js';
import { kernelFiles, vmCacheDir } from './paths.js';
import type { AccelChoice } from './types.js';

/**
 * Choose the qemu accelerator. KVM is far faster, but a usable /dev/kvm is not enough: on
 * nested-virtualisation hosts like ours KVM initialises and then dies on the first MSR write
 * (qemu asserts) or loops on an emulation failure. So "auto" boots the real guest once under
 * KVM with a short deadline and remembers the verdict per host boot (keyed by boot_id, the
 * qemu binary and the kernel image) in accel.json in the VM cache.
 */

const PROBE_TIMEOUT_MS = 30_000;
/** qemu's own messages when KVM cannot run this guest; seeing one ends the probe at once. */
const KVM_FAILURE = /KVM internal error|failed to set MSR|Assertion .* failed|emulation failure|Code=[0-9a-f]{2}|Could not access KVM|failed to initialize kvm/i;

function probeKey(): string {
  const bootId = existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : 'unknown';
  const k = statSync(kernelFiles().vmlinuz);
  return `${bootId}|${k.size}:${k.mtimeMs}`;
}

function kvmDeviceUsable(): string | undefined {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    return `/dev/kvm not usable (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}

let memo: Promise<AccelChoice> | undefined;

export function resolveAccel(): Promise<AccelChoice> {
  const env = process.env['GHOST_ALPS_VM_ACCEL'];
  if (env === 'tcg' || env === 'kvm') return Promise.resolve({ accel: env, reason: `GHOST_ALPS_VM_ACCEL=${env}` });
  if (env && env !== 'auto') {
    return Promise.reject(new Error(`GHOST_ALPS_VM_ACCEL=${env}: expected kvm, tcg or auto`));
  }
  memo ??= probe();
  return memo;
}

async function probe(): Promise<AccelChoice> {
  const noDev = kvmDeviceUsable();
  if (noDev) return { accel: 'tcg', reason: noDev };
  const file = join(vmCacheDir(), 'accel.json');
  const key = probeKey();
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; kvm: boolean; reason: string };
    if (cached.key === key) return { accel: cached.kvm ? 'kvm' : 'tcg', reason: `${cached.reason} (cached probe)` };
  } catch {
    /* no or unreadable cache: probe */
  }
  let kvm = false;
  let reason: string;
  try {
    const r = await bootVm({ command: ['true'], cpus: 1, memMb: 512, timeoutMs: PROBE_TIMEOUT_MS, abortOnQemuStderr: KVM_FAILURE, progress: false }, 'kvm', 'host');
    kvm = !r.timedOut && r.exitCode === 0;
    reason = kvm ? `KVM probe booted in ${Math.round(r.bootMs)} ms` : `KVM probe ${r.timedOut ? 'timed out' : `exited ${r.exitCode}`}`;
  } catch (e) {
    const first = String((e as Error).message).split('\n').find((l) => KVM_FAILURE.test(l)) ?? String((e as Error).message).split('\n')[0];
    reason = `KVM probe failed: ${first?.replace(/^qemu: /, '').slice(0, 200)}`;
  }
  mkdirSync(vmCacheDir(), { recursive: true });
  writeFileSync(file, JSON.stringify({ key, kvm, reason }) + '\n');
  return { accel: kvm ? 'kvm' : 'tcg', reason };
}
