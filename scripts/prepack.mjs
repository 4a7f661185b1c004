#!/usr/bin/env node
// npm's "prepack" hook: put the locally built N-API addons into prebuilds/<platform>-<arch>/ so
// the tarball installs without a compiler (scripts/install.mjs loads them, src/native/load.ts
// finds them), and refuse to pack what would install broken.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const need = [
  join(root, 'dist', 'src', 'cli', 'main.js'),
  join(root, 'build', 'Release', 'alps_ghost.node'),
  join(root, 'build', 'Release', 'alps_bpf.node'),
];
const missing = need.filter((p) => !existsSync(p));
if (missing.length) {
  process.stderr.write(`prepack: not built: ${missing.join(', ')} (run \`npm run setup\` first)\n`);
  process.exit(1);
}
const out = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const name of ['alps_ghost.node', 'alps_bpf.node']) copyFileSync(join(root, 'build', 'Release', name), join(out, name));
