#!/usr/bin/env node
// npm's "install" hook for ghost-alps.
//
// An installed package ships prebuilt N-API binaries in prebuilds/<platform>-<arch>/ (copied there
// by scripts/prepack.mjs when the tarball is made). N-API is ABI-stable, so one binary serves every
// Node >= 20 on that platform: if the shipped alps_ghost.node loads here, nothing is compiled and
// no toolchain is needed. Otherwise (another platform, a checkout, GHOST_ALPS_BUILD_FROM_SOURCE=1)
// the addons are built from source with node-gyp, as npm would do by default.
//
// Why not node-gyp-build, the ecosystem's loader: it resolves one .node per directory, and this
// package has two addons from one binding.gyp (alps_ghost must build on a ghOSt host without
// libbpf; alps_bpf links libbpf). src/native/load.ts is the matching loader.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const prebuilds = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const say = (msg) => process.stderr.write(`ghost-alps install: ${msg}\n`);

/** '' if the module at `path` loads, else the first line of why not. */
function loadError(path) {
  if (!existsSync(path)) return `${path} not found`;
  try {
    require(path);
    return '';
  } catch (e) {
    return String(e?.message ?? e).split('\n')[0];
  }
}

function buildFromSource() {
  // npm sets npm_config_node_gyp to its bundled node-gyp; outside npm, use the one on PATH.
  const gyp = process.env.npm_config_node_gyp;
  const cmd = gyp ? process.execPath : 'node-gyp';
  const args = gyp ? [gyp, 'rebuild'] : ['rebuild'];
  // Debian/Ubuntu's nodejs ships its headers: use them rather than downloading a tarball.
  if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  say(`building the native addons from source: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('the native build failed. It needs a C++20 compiler, make, python3 and libbpf-dev >= 1.4 ' +
      '(Debian/Ubuntu: apt-get install build-essential python3 libbpf-dev libelf-dev zlib1g-dev).');
    process.exit(r.status ?? 1);
  }
}

// `npm run setup` in a checkout builds the addons itself right after `npm ci`.
if (process.env.GHOST_ALPS_SETUP === '1') process.exit(0);
const fromSource = process.env.GHOST_ALPS_BUILD_FROM_SOURCE === '1';
const ghostErr = fromSource ? 'GHOST_ALPS_BUILD_FROM_SOURCE=1' : loadError(join(prebuilds, 'alps_ghost.node'));
if (ghostErr) {
  if (!fromSource && existsSync(prebuilds)) say(`the prebuilt alps_ghost does not load here (${ghostErr})`);
  buildFromSource();
} else {
  const bpfErr = loadError(join(prebuilds, 'alps_bpf.node'));
  // Not fatal: the simulator, the learner and the ghOSt client work without it; BPF commands
  // say exit 4 with this same reason when used.
  if (bpfErr) say(`prebuilt binaries in use; the BPF addon cannot load here (${bpfErr}): BPF features need libbpf >= 1.4`);
}
