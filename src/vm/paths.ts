import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the VM machinery finds the project and keeps its caches. The caches (kernel, apt
 * state, initramfs layers, KVM probe verdict) live in the user's cache directory, never inside
 * the package (an installed package sits in node_modules, which npm may replace at any time):
 *
 *   $GHOST_ALPS_CACHE_DIR, else $XDG_CACHE_HOME/ghost-alps, else ~/.cache/ghost-alps
 *     vm/        (or $GHOST_ALPS_VM_CACHE) kernel/, apt/, initramfs/, accel.json
 *
 * ghost-kernel/vm/fetch-kernel.sh and ghost-kernel/bpf/Makefile apply the same rule.
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

/** The user's ghost-alps cache directory (XDG base directory rule; see above). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['GHOST_ALPS_CACHE_DIR'];
  if (own) return resolve(own);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'ghost-alps');
  return join(env['HOME'] || homedir(), '.cache', 'ghost-alps');
}

export function vmCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const vm = env['GHOST_ALPS_VM_CACHE'];
  return vm ? resolve(vm) : join(cacheRoot(env), 'vm');
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
