#!/usr/bin/env node
// For binding.gyp: where the vendored libbpf source is (scripts/fetch-libbpf.sh puts it in
// .cache/libbpf/), relative to the project root as gyp wants.
//   libbpf-gyp.mjs dir       the source tree, or nothing when not fetched (then the addon links
//                            the system's libbpf.so, which must be >= 1.4)
//   libbpf-gyp.mjs sources   its C sources, one per line
import { existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const base = join('.cache', 'libbpf');
const tree = existsSync(join(root, base))
  ? readdirSync(join(root, base)).filter((d) => /^libbpf-\d/.test(d)).map((d) => join(base, d)).find((d) => existsSync(join(root, d, 'src', 'libbpf.c')))
  : undefined;
if (process.env.GHOST_ALPS_SYSTEM_LIBBPF === '1' || !tree) process.stdout.write('\n');
else if (process.argv[2] === 'sources') {
  const src = join(tree, 'src');
  process.stdout.write(readdirSync(join(root, src)).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, f)).join('\n') + '\n');
} else process.stdout.write(tree + '\n');
