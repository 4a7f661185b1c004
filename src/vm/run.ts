import { resolveAccel } from './accel.js';
import { bootVm } from './boot.js';
import { validateVmOptions } from './options.js';
import { resolveClock } from './qemu.js';
import type { VmRunOptions, VmRunResult } from './types.js';

/**
 * Boot the cached sched_ext kernel under qemu with the project in an initramfs, run one
 * command as root in the guest, and return what it printed and its exit code.
 *
 * The pieces: options.ts (defaults, validation), accel.ts (KVM or TCG), qemu.ts (command
 * line, clock, process), initrd.ts (the guest's files), channel.ts (console, stdout, stderr,
 * control and collect channels), boot.ts (one boot), diagnose.ts (why a run failed).
 */
export async function runInVm(opts: VmRunOptions): Promise<VmRunResult> {
  validateVmOptions(opts);
  const accel = opts.accel && opts.accel !== 'auto' ? opts.accel : (await resolveAccel()).accel;
  const clock = resolveClock(accel, opts.clock);
  if (clock === 'icount' && accel === 'kvm') {
    // 'auto' never picks this; an explicit --clock icount with an auto-chosen KVM lands here.
    return bootVm(opts, 'tcg', clock);
  }
  return bootVm(opts, accel, clock);
}
