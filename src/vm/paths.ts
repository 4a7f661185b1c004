import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the VM machinery finds the project and keeps its caches. Everything lives under the
 * project's `.cache/vm/` (gitignored) unless GHOST_ALPS_VM_CACHE points elsewhere, so tests
 * never need the network once `npm run setup` has fetched the kernel.
 */

/** Project root: the nearest ancestor holding binding.gyp (same rule as src/native/load.ts). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`ghost-alps: cannot find the project root (binding.gyp) from ${fileURLToPath(import.meta.url)}`);
}

export function vmCacheDir(): string {
  const env = process.env['GHOST_ALPS_VM_CACHE'];
  return env ? resolve(env) : join(projectRoot(), '.cache', 'vm');
}

/** Files written by ghost-kernel/vm/fetch-kernel.sh. */
export interface KernelFiles {
  dir: string;
  vmlinuz: string;
  /** Raw BTF of the guest kernel: same bytes as the guest's /sys/kernel/btf/vmlinux. */
  btf: string;
  config: string;
  releaseFile: string;
}

export function kernelFiles(): KernelFiles {
  const dir = join(vmCacheDir(), 'kernel');
  const override = process.env['GHOST_ALPS_VM_KERNEL'];
  return {
    dir,
    vmlinuz: override ? resolve(override) : join(dir, 'vmlinuz'),
    btf: join(dir, 'vmlinux.btf'),
    config: join(dir, 'config'),
    releaseFile: join(dir, 'release'),
  };
}

/** Release string of the cached kernel (e.g. `7.3.4+deb13-cloud-amd64`), or undefined. */
export function kernelRelease(): string | undefined {
  const f = kernelFiles().releaseFile;
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : undefined;
}

/** The shell half of the VM machinery (fetch-kernel.sh, init.sh) lives in ghost-kernel/vm. */
export function vmScriptsDir(): string {
  return join(projectRoot(), 'ghost-kernel', 'vm');
}
