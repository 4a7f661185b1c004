import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolveAccel } from './accel.js';
import { busyboxPath } from './layers.js';
import { kernelFiles, kernelRelease } from './paths.js';
import { qemuBinary } from './qemu.js';
import type { Accel } from './types.js';

/**
 * Can this machine run `runInVm`? Tests call this once and skip with the returned reason
 * instead of failing (or, worse, passing) on machines without qemu or a cached kernel.
 */
export type VmAvailability =
  | { ok: true; accel: Accel; accelReason: string; kernel: string }
  | { ok: false; reason: string };

function onPath(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

/** The first missing prerequisite, or undefined when all are present (no probe boot). */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `VM runs need linux/x64 (this is ${process.platform}/${process.arch})`;
  if (!onPath(qemuBinary(), ['--version'])) return `${qemuBinary()} not found (apt-get install qemu-system-x86, or set GHOST_ALPS_VM_QEMU)`;
  if (!onPath('timeout', ['--version'])) return 'timeout(1) from coreutils not found';
  if (!onPath('ldd', ['--version'])) return 'ldd not found (libc-bin)';
  try {
    busyboxPath();
  } catch (e) {
    return (e as Error).message;
  }
  const k = kernelFiles();
  if (!existsSync(k.vmlinuz)) return `no VM kernel cached at ${k.vmlinuz} (run \`ghost-alps vm fetch-kernel\`)`;
  return undefined;
}

let memo: Promise<VmAvailability> | undefined;

export function vmAvailability(): Promise<VmAvailability> {
  memo ??= (async (): Promise<VmAvailability> => {
    if (process.env['GHOST_ALPS_VM'] === 'off') return { ok: false, reason: 'VM tests disabled by GHOST_ALPS_VM=off' };
    const missing = missingPrerequisite();
    if (missing) return { ok: false, reason: missing };
    try {
      const a = await resolveAccel();
      return { ok: true, accel: a.accel, accelReason: a.reason, kernel: kernelRelease() ?? kernelFiles().vmlinuz };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  })();
  return memo;
}
