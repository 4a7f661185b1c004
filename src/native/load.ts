import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { UnsupportedError } from '../core/errors.js';

/** A checkout has binding.gyp; an installed package and the VM's /project layer have our package.json. */
const isProjectRoot = (dir: string): boolean => {
  if (existsSync(join(dir, 'binding.gyp'))) return true;
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'ghost-alps';
  } catch {
    return false;
  }
};

let root: string | undefined;

/** The package root, found upwards from this file (src/native or dist/src/native). */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (isProjectRoot(dir)) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error('ghost-alps: cannot find the package root from ' + fileURLToPath(import.meta.url));
}

export type NativeModuleName = 'alps_ghost' | 'alps_bpf';

/**
 * Where a native module may be, best first: a local build (a checkout, or an installed package
 * that built from source because no prebuilt binary fit), then the prebuilt binary shipped in the
 * package for this platform (N-API: one binary serves every Node version >= 20).
 */
export function nativeModuleCandidates(name: NativeModuleName, base = projectRoot()): string[] {
  return [
    join(base, 'build', 'Release', `${name}.node`),
    join(base, 'build', 'Debug', `${name}.node`),
    join(base, 'prebuilds', `${process.platform}-${process.arch}`, `${name}.node`),
  ];
}

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

/** Load one of the native modules built by binding.gyp, with a clear error if it is missing. */
export function loadNative<T>(name: NativeModuleName): T {
  const hit = cache.get(name);
  if (hit) return hit as T;
  const candidates = nativeModuleCandidates(name);
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new UnsupportedError(`native module ${name}`, `not built for ${process.platform}-${process.arch} (looked for ${candidates.join(', ')})`,
      'in a checkout run `npm run setup`; in an installed package run `npm rebuild ghost-alps`');
  }
  let mod: T;
  try {
    mod = require(path) as T;
  } catch (e) {
    // Typically a shared library the binary needs (libbpf >= 1.4 for alps_bpf) is missing or too old.
    const why = (e as Error).message.split('\n')[0];
    throw new UnsupportedError(`native module ${name}`, `cannot be loaded from ${path}: ${why}`,
      name === 'alps_bpf' ? 'install libbpf >= 1.4 (Debian 12: bookworm-backports libbpf1), then retry' : 'run `npm rebuild ghost-alps`');
  }
  cache.set(name, mod);
  return mod;
}
