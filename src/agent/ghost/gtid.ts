/**
 * gtid layout (ghOSt): bit 63 = 0, then the TID, then a per-incarnation sequence number in the low
 * bits. The TID field is as wide as the kernel's largest possible pid (pid_max_max, i.e.
 * PID_MAX_LIMIT): 4194304 on 64-bit kernels gives 22 TID bits and 41 sequence bits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** PID_MAX_LIMIT of a 64-bit kernel: the pid ceiling when procfs does not say otherwise. */
export const DEFAULT_PID_MAX_MAX = 4_194_304;

/** Sequence bits for a kernel whose pids stay below `pidMaxMax` (63 - bits to hold pidMaxMax - 1). */
export function seqBitsFor(pidMaxMax: number): number {
  if (!Number.isInteger(pidMaxMax) || pidMaxMax < 2) throw new RangeError(`pid_max_max ${pidMaxMax}: must be an integer >= 2`);
  const tidBits = Math.ceil(Math.log2(pidMaxMax));
  return 63 - tidBits;
}

function readInt(path: string): number | undefined {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host's gtid sequence bits: from `<proc>/sys/kernel/pid_max_max` when the kernel exports it,
 * else from the 64-bit PID_MAX_LIMIT, raised if `<proc>/sys/kernel/pid_max` is somehow larger.
 */
export function hostGtidSeqBits(procRoot = '/proc'): number {
  const max = readInt(join(procRoot, 'sys/kernel/pid_max_max'));
  if (max !== undefined) return seqBitsFor(max);
  const cur = readInt(join(procRoot, 'sys/kernel/pid_max')) ?? 0;
  return seqBitsFor(Math.max(DEFAULT_PID_MAX_MAX, cur));
}
