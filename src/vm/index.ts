/**
 * Run commands inside a qemu VM booted with Debian's sched_ext-enabled kernel. See docs/vm.md.
 *
 *   const avail = await vmAvailability();          // skip tests with avail.reason when !ok
 *   const r = await runInVm({ command: ['cat', '/sys/kernel/sched_ext/state'], cpus: 2 });
 *   r.exitCode, r.stdout, r.stderr, r.bootMs
 */
export { runInVm } from './run.js';
export { VM_DEFAULTS, VM_CLOCKS, validateVmOptions } from './options.js';
export { shQuote } from './initrd.js';
export { VmError, diagnose, consoleTail, type VmDiagnosis, type VmFailureKind } from './diagnose.js';
export type { Accel, AccelChoice, VmClock, VmFile, VmRunOptions, VmRunResult } from './types.js';
export { vmAvailability, missingPrerequisite, type VmAvailability } from './availability.js';
export { resolveAccel } from './accel.js';
export { kernelFiles, kernelRelease, vmCacheDir, cacheRoot, projectRoot, type KernelFiles } from './paths.js';
export { baseLayer, projectLayer, type Layer } from './layers.js';
