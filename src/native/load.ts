import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { UnsupportedError } from '../core/errors.js';

/** Project root: two levels above this file in both src/ and dist/src/ layouts. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('ghost-alps: cannot find the project root (binding.gyp) from ' + fileURLToPath(import.meta.url));
}

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

/** Load one of the native modules built by binding.gyp, with a clear error if it is missing. */
export function loadNative<T>(name: 'alps_ghost' | 'alps_bpf'): T {
  const hit = cache.get(name);
  if (hit) return hit as T;
  const root = projectRoot();
  const candidates = [join(root, 'build', 'Release', `${name}.node`), join(root, 'build', 'Debug', `${name}.node`)];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new UnsupportedError(`native module ${name}`, `not built (looked for ${candidates[0]})`, 'run `npm run setup`');
  }
  const mod = require(path) as T;
  cache.set(name, mod);
  return mod;
}
