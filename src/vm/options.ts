import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { InputError } from '../core/errors.js';
import type { VmRunOptions } from './types.js';

export const VM_DEFAULTS = { cpus: 2, memMb: 1024, timeoutMs: 600_000 } as const;

export const VM_CLOCKS = ['auto', 'icount', 'host'] as const;

export function validateVmOptions(o: Pick<VmRunOptions, 'command' | 'cpus' | 'memMb' | 'timeoutMs' | 'files' | 'collect' | 'clock' | 'accel'>): void {
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
  if (o.clock !== undefined && !(VM_CLOCKS as readonly string[]).includes(o.clock)) {
    throw new InputError('--clock', `expected one of ${VM_CLOCKS.join(', ')}, got ${String(o.clock)}`);
  }
  if (o.clock === 'icount' && o.accel === 'kvm') {
    throw new InputError('--clock icount', 'needs TCG (qemu counts instructions only when it translates them); use --accel tcg or --clock host');
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
