import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { CpioWriter } from './cpio.js';
import { projectRoot, vmCacheDir, vmScriptsDir } from './paths.js';

/**
 * The guest's root filesystem, as concatenated initramfs layers:
 *
 *   base     busybox (static) + its applet links, /init, the host's node binary and the shared
 *            libraries it links against. Changes when node, busybox or init.sh change.
 *   project  package.json, dist/ (compiled JS only), build/Release/*.node, everything built in
 *            ghost-kernel/bpf/build/ and build/bpf/ except headers (BPF objects, static
 *            helpers), and the production node_modules from package-lock.json (JS/JSON/.node
 *            only). Mounted at /project.
 *   run      per call: the command script and any extra files (built by run.ts).
 *
 * Base and project are cached under <VM cache>/initramfs/ (paths.ts) by a hash of their inputs, so an
 * unchanged tree costs one hash pass, not a rebuild. Project files are hashed by content; big
 * and rarely-changing inputs (node, shared libraries, node_modules) by path+size+mtime+inode.
 */

const LAYOUT_VERSION = 1;
const KEEP_PER_KIND = 2;

export interface Layer {
  kind: 'base' | 'project';
  path: string;
  hash: string;
  bytes: number;
  /** True when this call had to build it (cache miss). */
  built: boolean;
}

/** Guest path -> host path (or literal content). */
interface Entry {
  guest: string;
  host?: string;
  content?: Buffer;
  mode?: number;
  /** How to fingerprint: 'content' hashes the bytes, 'stat' uses size/mtime/inode. */
  fp: 'content' | 'stat';
}

export function busyboxPath(): string {
  const env = process.env['GHOST_ALPS_VM_BUSYBOX'];
  if (env) return env;
  for (const p of ['/bin/busybox', '/usr/bin/busybox', '/usr/sbin/busybox']) if (existsSync(p)) return p;
  throw new Error('busybox not found (apt-get install busybox-static, or set GHOST_ALPS_VM_BUSYBOX)');
}

/** Absolute paths of the shared libraries (and the ELF interpreter) an executable needs. */
export function sharedLibs(elf: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [elf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // ldd exits 1 for static executables ("not a dynamic executable"): nothing to add.
    const err = e as { stdout?: string; stderr?: string };
    if (/not a dynamic executable|statically linked/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`)) return [];
    throw new Error(`ldd ${elf} failed: ${err.stderr ?? String(e)}`);
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    if (/not found/.test(line)) throw new Error(`${elf}: shared library missing on the host: ${line.trim()}`);
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

function statFp(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ino}:${st.mode}`;
}

function fingerprint(entries: Entry[], extra: string): string {
  const h = createHash('sha256');
  h.update(`v${LAYOUT_VERSION}\n${extra}\n`);
  for (const e of [...entries].sort((a, b) => (a.guest < b.guest ? -1 : a.guest > b.guest ? 1 : 0))) {
    h.update(`${e.guest}\0${e.mode ?? ''}\0`);
    if (e.content) h.update(e.content);
    else if (e.host && e.fp === 'stat') h.update(statFp(statSync(e.host)));
    else if (e.host) h.update(createHash('sha256').update(readFileSync(e.host)).digest());
    h.update('\n');
  }
  return h.digest('hex').slice(0, 24);
}

function walk(dir: string, keep: (name: string) => boolean, skipDir: (name: string) => boolean = () => false): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) {
      if (!skipDir(d.name)) out.push(...walk(p, keep, skipDir));
    } else if (d.isFile() && keep(d.name)) out.push(p);
  }
  return out;
}

function isElfExecutable(p: string): boolean {
  const st = statSync(p);
  if ((st.mode & 0o111) === 0 || st.size < 4) return false;
  const fd = openSync(p, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

function libEntries(elfs: string[]): Entry[] {
  const seen = new Set<string>();
  const out: Entry[] = [];
  for (const elf of elfs) {
    for (const lib of sharedLibs(elf)) {
      if (seen.has(lib)) continue;
      seen.add(lib);
      // Copied as a regular file at the path the loader looks for (symlinks resolved by the
      // read), so the guest needs no merged-/usr layout.
      out.push({ guest: lib, host: lib, fp: 'stat', mode: 0o755 });
    }
  }
  return out;
}

/**
 * The host's node binary, stripped of its symbol table and debug info when strip(1) is there:
 * Debian's node ships unstripped (~99 MB -> ~86 MB), and every byte is loaded and unpacked at
 * each boot. The dynamic symbols that native addons bind to (napi_*) are kept by --strip-all.
 */
function guestNode(): string {
  const node = process.execPath;
  const id = createHash('sha256').update(`${node}|${statFp(statSync(node))}`).digest('hex').slice(0, 16);
  const out = join(layerDir(), `node-${id}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync('strip', ['--strip-all', '-o', tmp, node], { stdio: 'ignore' });
    renameSync(tmp, out);
    for (const n of readdirSync(layerDir())) if (n.startsWith('node-') && join(layerDir(), n) !== out && !n.endsWith('.tmp')) rmSync(join(layerDir(), n), { force: true });
    return out;
  } catch {
    rmSync(tmp, { force: true });
    return node;
  }
}

function baseEntries(): { entries: Entry[]; applets: string[] } {
  const bb = busyboxPath();
  const applets = execFileSync(bb, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[a-z0-9_.[-]+$/i.test(s) && s !== 'busybox');
  const node = guestNode();
  const init = readFileSync(join(vmScriptsDir(), 'init.sh'));
  const wrapper = Buffer.from('#!/bin/sh\nexec /usr/bin/node /project/dist/src/cli/main.js "$@"\n');
  const entries: Entry[] = [
    { guest: '/init', content: init, mode: 0o755, fp: 'content' },
    { guest: '/bin/busybox', host: bb, mode: 0o755, fp: 'stat' },
    { guest: '/usr/bin/node', host: node, mode: 0o755, fp: 'stat' },
    { guest: '/bin/ghost-alps', content: wrapper, mode: 0o755, fp: 'content' },
    { guest: '/etc/passwd', content: Buffer.from('root:x:0:0:root:/root:/bin/sh\n'), fp: 'content' },
    { guest: '/etc/group', content: Buffer.from('root:x:0:\n'), fp: 'content' },
    ...libEntries([bb, process.execPath]),
  ];
  return { entries, applets };
}

/** Files of the project layer, guest paths under /project (libraries at their own paths). */
function projectEntries(): Entry[] {
  const root = projectRoot();
  const under = (p: string): string => `/project/${relative(root, p)}`;
  const entries: Entry[] = [];
  const add = (p: string, fp: Entry['fp']): void => {
    entries.push({ guest: under(p), host: p, fp });
  };
  add(join(root, 'package.json'), 'content');
  for (const p of walk(join(root, 'dist'), (n) => /\.(m|c)?js$|\.json$/.test(n))) add(p, 'content');
  // A checkout's own build, else (an installed package) the prebuilt binaries it shipped.
  const built = walk(join(root, 'build', 'Release'), (n) => n.endsWith('.node'), () => true);
  const natives = built.length ? built : walk(join(root, 'prebuilds', `${process.platform}-${process.arch}`), (n) => n.endsWith('.node'));
  for (const p of natives) add(p, 'content');
  // BPF objects and the static helpers built next to them (loader, launcher, function bodies);
  // generated headers and sources stay out. Dynamically linked helpers bring their libraries.
  const helpers: string[] = [];
  for (const d of [join(root, 'ghost-kernel', 'bpf', 'build'), join(root, 'build', 'bpf')]) {
    for (const p of walk(d, (n) => !/\.(h|c|d|tmp)$/.test(n))) {
      add(p, 'content');
      if (isElfExecutable(p)) helpers.push(p);
    }
  }
  for (const { dir, guest } of productionModules(root)) {
    const files = walk(dir, (n) => /\.(m|c)?js$|\.json$|\.node$|\.wasm$/.test(n), (n) => n === 'node_modules');
    for (const p of files) entries.push({ guest: `${guest}/${relative(dir, p)}`, host: p, fp: 'stat' });
  }
  entries.push(...libEntries([...natives, ...helpers]));
  return entries;
}

/** A runtime dependency's directory on the host and where it goes in the guest. */
interface ModuleDir {
  dir: string;
  guest: string;
}

/**
 * The runtime dependency closure. In a checkout: every non-dev package of package-lock.json, at
 * its own path. In an installed package (no lock file; npm hoists the dependencies into the
 * consumer's node_modules): the closure of package.json's dependencies as Node resolves them,
 * each placed in the guest's /project/node_modules/<name>, where the guest's Node looks.
 */
function productionModules(root: string): ModuleDir[] {
  const lockPath = join(root, 'package-lock.json');
  if (existsSync(lockPath)) {
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages?: Record<string, { dev?: boolean; devOptional?: boolean }> };
    return Object.entries(lock.packages ?? {})
      .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional)
      .map(([k]) => ({ dir: join(root, k), guest: `/project/${k}` }))
      .filter((m) => existsSync(m.dir));
  }
  const out = new Map<string, ModuleDir>();
  // A package nested in its dependent's own node_modules keeps that nesting in the guest.
  const visit = (from: ModuleDir, name: string, optional: boolean): void => {
    const fromDir = from.dir;
    let pkgJson: string;
    try {
      pkgJson = createRequire(join(fromDir, 'package.json')).resolve(`${name}/package.json`);
    } catch {
      if (optional) return;
      throw new Error(`vm: runtime dependency '${name}' of ${fromDir} is not installed`);
    }
    const dir = dirname(pkgJson);
    if (out.has(dir)) return;
    const nested = dir.startsWith(`${fromDir}/node_modules/`);
    const here: ModuleDir = { dir, guest: nested ? `${from.guest}${dir.slice(fromDir.length)}` : `/project/node_modules/${name}` };
    out.set(dir, here);
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(here, d, false);
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) visit(here, d, true);
  };
  const top = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  const self: ModuleDir = { dir: root, guest: '/project' };
  for (const d of Object.keys(top.dependencies ?? {})) visit(self, d, false);
  for (const d of Object.keys(top.optionalDependencies ?? {})) visit(self, d, true);
  return [...out.values()];
}

function layerDir(): string {
  const d = join(vmCacheDir(), 'initramfs');
  mkdirSync(d, { recursive: true });
  return d;
}

function writeLayer(kind: Layer['kind'], hash: string, fill: (w: CpioWriter) => void): Layer {
  const dir = layerDir();
  const path = join(dir, `${kind}-${hash}.cpio`);
  if (existsSync(path)) return { kind, path, hash, bytes: statSync(path).size, built: false };
  // Write to a private name and rename: concurrent test processes may build the same layer.
  const tmp = `${path}.${process.pid}.tmp`;
  const w = new CpioWriter(tmp);
  let bytes: number;
  try {
    fill(w);
    bytes = w.finish();
  } catch (e) {
    w.abort();
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, path);
  prune(dir, kind);
  return { kind, path, hash, bytes, built: true };
}

/** Keep the few newest layers of a kind so the cache does not grow with every rebuild. */
function prune(dir: string, kind: string): void {
  const old = readdirSync(dir)
    .filter((n) => n.startsWith(`${kind}-`) && n.endsWith('.cpio'))
    .map((n) => ({ p: join(dir, n), t: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t)
    .slice(KEEP_PER_KIND);
  for (const o of old) rmSync(o.p, { force: true });
}

function emit(w: CpioWriter, e: Entry): void {
  if (e.content) w.data(e.guest, e.content, e.mode ?? 0o644);
  else if (e.host) w.file(e.guest, e.host, e.mode);
}

export function baseLayer(): Layer {
  const { entries, applets } = baseEntries();
  const hash = fingerprint(entries, applets.join(','));
  return writeLayer('base', hash, (w) => {
    for (const d of ['/proc', '/sys', '/dev', '/tmp', '/run', '/root', '/project', '/ghost-vm', '/usr/bin', '/bin']) w.dir(d);
    w.charDevice('/dev/console', 5, 1);
    w.charDevice('/dev/null', 1, 3, 0o666);
    for (const e of entries) emit(w, e);
    for (const a of applets) if (a !== 'ghost-alps') w.symlink(`/bin/${a}`, 'busybox');
  });
}

export function projectLayer(): Layer {
  const entries = projectEntries();
  const hash = fingerprint(entries, '');
  return writeLayer('project', hash, (w) => {
    w.dir('/project');
    for (const e of entries) emit(w, e);
  });
}
