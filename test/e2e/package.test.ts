/**
 * The package a user installs: `npm pack`, then `npm install <tarball>` into an empty project,
 * then the installed `ghost-alps` command. The tarball ships prebuilt N-API binaries, so the
 * install compiles nothing; the dependencies come from npm's cache (primed by `npm ci` in setup)
 * and the registry only for what the cache lacks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/native/load.js';

const root = projectRoot();
const built = existsSync(join(root, 'build', 'Release', 'alps_ghost.node')) && existsSync(join(root, 'build', 'Release', 'alps_bpf.node'));
const skip = built ? false : 'native addons not built (npm run setup)';

const sh = (cmd: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false', NO_COLOR: '1' } });
const show = (r: SpawnSyncReturns<string>): string => `exit ${r.status} signal ${r.signal}\n--- stdout\n${r.stdout?.slice(-2000)}\n--- stderr\n${r.stderr?.slice(-4000)}`;

test('npm pack + npm install <tarball> in an empty project: the installed command runs', { skip, timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ghost-alps-pack-'));
  try {
    const pack = sh('npm', ['pack', '--json', '--pack-destination', dir], root);
    assert.equal(pack.status, 0, show(pack));
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    for (const want of ['LICENSE', 'README.md', 'docs/learner.md', 'dist/src/cli/main.js', `prebuilds/${process.platform}-${process.arch}/alps_ghost.node`,
      `prebuilds/${process.platform}-${process.arch}/alps_bpf.node`, 'ghost-kernel/bpf/build/alps.bpf.o', 'scripts/install.mjs', 'binding.gyp']) {
      assert.ok(files.includes(want), `the tarball lacks ${want}`);
    }
    const bad = files.filter((f) => /vmlinux\.h$|^\.cache\/|^test\/|^dist\/test\/|^build\//.test(f));
    assert.deepEqual(bad, [], 'the tarball ships build-only or test files');

    const proj = join(dir, 'proj');
    spawnSync('mkdir', [proj]);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'try-ghost-alps', version: '1.0.0', private: true }));
    const tgz = join(dir, info!.filename);
    const install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tgz], proj);
    assert.equal(install.status, 0, show(install));
    assert.doesNotMatch(install.stderr, /building the native addons from source/, 'the shipped prebuilt binaries were used');
    assert.ok(!readdirSync(join(proj, 'node_modules', 'ghost-alps')).includes('build'), 'nothing was compiled on install');

    const sim = sh('npx', ['--no-install', 'ghost-alps', 'simulate', '--invocations', '2000', '--json'], proj);
    assert.equal(sim.status, 0, show(sim));
    const report = JSON.parse(sim.stdout) as { runs?: unknown[] };
    assert.ok(Array.isArray(report.runs) && report.runs.length > 0, 'simulate --json printed a report with runs');

    // No ghOSt kernel here: "unsupported here" (exit 4) with one clear line, never a crash.
    const agent = sh('npx', ['--no-install', 'ghost-alps', 'agent', '--ghost'], proj, 60_000);
    assert.equal(agent.status, 4, show(agent));
    assert.doesNotMatch(agent.stderr, /^\s+at /m, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
