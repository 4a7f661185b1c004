/**
 * Run commands inside a qemu VM booted with Debian's sched_ext-enabled kernel. See docs/vm.md.
 *
 *   const avail = await vmAvailability();          // skip tests with avail.reason when !ok
 *   const r = await runInVm({ command: ['cat', '/sys/kernel/sched_ext/state'], cpus: 2 });
 *   r.exitCode, r.stdout, r.stderr, r.bootMs
 */
export { runInVm, VmError, VM_DEFAULTS, shQuote, type VmFile, type VmRunOptions, type VmRunResult } from './run.js';
export { vmAvailability, missingPrerequisite, type VmAvailability } from './availability.js';
export { resolveAccel, type Accel, type AccelChoice } from './accel.js';
export { kernelFiles, kernelRelease, vmCacheDir, projectRoot, type KernelFiles } from './paths.js';
export { baseLayer, projectLayer, type Layer } from './layers.js';
