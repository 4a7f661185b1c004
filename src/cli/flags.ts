import { accessSync, constants, mkdirSync, statfsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { UsageError } from './errors.js';

/**
 * Bounds of every numeric flag, in one place so messages, the README's Limits table and the
 * fuzz suite agree. A bound keeps memory and time finite (`--invocations 1e9` would otherwise
 * allocate gigabytes before the first check), and each message states the bound.
 */
export const LIMITS = {
  /** Simulated or live invocations per run. */
  invocations: 1_000_000,
  /** Real invocations per arm of `compare --real` (each is a process in the VM). */
  realInvocations: 100_000,
  /** Simulated CPUs. */
  simCpus: 1024,
  /** Highest CPU id in an `agent --cpus` list (the kernel's NR_CPUS ceiling). */
  maxCpuId: 8191,
  seed: 0xffff_ffff,
} as const;

/** An integer flag in [lo, hi]; the message names the flag, the value and the range. */
export function intFlag(flag: string, v: number | undefined, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new InputError(flag, `must be an integer in ${lo}..${hi}, got ${v}`);
  }
  return v;
}

/** A number flag in (lo, hi] (or [lo, hi] with `loInclusive`). */
export function numFlag(flag: string, v: number | undefined, lo: number, hi: number, loInclusive = false): number {
  const okLo = typeof v === 'number' && (loInclusive ? v >= lo : v > lo);
  if (!okLo || !(v <= hi)) throw new InputError(flag, `must be in ${loInclusive ? '[' : '('}${lo}, ${hi}], got ${v}`);
  return v;
}

export const seedFlag = (v: number | undefined, flag = '--seed'): number => intFlag(flag, v, 0, LIMITS.seed);

/** Flags that must not be combined: one clear usage error naming both. */
export function conflicts(pairs: Array<[string, unknown, string, unknown]>): void {
  for (const [a, av, b, bv] of pairs) {
    if (av !== undefined && av !== false && bv !== undefined && bv !== false) throw new UsageError(`${a} and ${b} cannot be used together`);
  }
}

/**
 * `--host`: an IP address or `localhost`. The empty string is refused (to the socket layer it
 * means every interface, which would publish the feed to the network); so is anything that is
 * not an address, rather than failing later inside the server with a stack.
 */
export function hostFlag(host: string | undefined, flag = '--host'): string {
  if (host === undefined) return '127.0.0.1';
  if (host === '') throw new UsageError(`${flag} needs a value (an empty host would mean every interface; the default is 127.0.0.1)`);
  if (host !== 'localhost' && isIP(host) === 0) throw new InputError(flag, `'${host}' is not an IP address (e.g. 127.0.0.1, ::1, or 0.0.0.0 to listen on every interface)`);
  return host;
}

/** statfs magic numbers of pseudo file systems where output files make no sense. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'procfs',
  0x62656572: 'sysfs',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0xcafe4a11: 'bpffs',
  0x1cd1: 'devpts',
  0x73636673: 'securityfs',
};

/**
 * Check an output directory before any work: its nearest existing ancestor must be a directory
 * on a real file system that we may write, then create it. Fails fast with the reason (Node's
 * recursive mkdir can loop forever on procfs, and a permission problem found after a long
 * simulation wastes the run).
 */
export function prepareOutDir(dir: string, flag = '--out'): string {
  const abs = resolve(dir);
  let existing = abs;
  const missing: string[] = [];
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) throw new InputError(flag, `${existing} exists and is not a directory`);
      break;
    } catch (err) {
      if (err instanceof InputError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        if (code === 'EACCES' || code === 'EPERM') throw Object.assign(new Error(`${flag} ${dir}: cannot look at ${existing}`), { code });
        throw new InputError(flag, `${existing}: ${code ?? (err as Error).message}`);
      }
      missing.unshift(existing);
      const up = dirname(existing);
      if (up === existing) throw new InputError(flag, `no existing directory above ${abs}`);
      existing = up;
    }
  }
  let fsType: number | undefined;
  try {
    fsType = statfsSync(existing).type;
  } catch {
    fsType = undefined;
  }
  const pseudo = fsType !== undefined ? PSEUDO_FS[fsType] : undefined;
  if (pseudo) throw new InputError(flag, `${abs} is on ${pseudo}, a kernel pseudo file system: choose a directory on disk`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw Object.assign(new Error(`${flag} ${dir}: ${existing} is not writable by this user`), { code: (err as NodeJS.ErrnoException).code ?? 'EACCES' });
  }
  // One level at a time (not { recursive: true }, which is what loops on procfs).
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'EACCES' || code === 'EPERM') throw Object.assign(new Error(`${flag} ${dir}: cannot create ${d}`), { code });
      throw new InputError(flag, `cannot create ${d}: ${code ?? (err as Error).message}`);
    }
  }
  return abs;
}
