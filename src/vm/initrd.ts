import { closeSync, copyFileSync, openSync, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InputError } from '../core/errors.js';
import { CpioWriter } from './cpio.js';
import { baseLayer, projectLayer } from './layers.js';
import type { VmRunOptions } from './types.js';

/**
 * The per-run initrd: the cached base and project layers (layers.ts) followed by a small run
 * layer holding the command script, the collect list and the caller's files. The kernel
 * unpacks concatenated cpio archives in order, so later layers add to earlier ones.
 */

/** POSIX-shell single quoting. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** /ghost-vm/cmd: cd, exports, exec of the argv (init.sh runs it with sh). */
export function commandScript(o: Pick<VmRunOptions, 'command' | 'cwd' | 'env'>): string {
  const lines = [`cd ${shQuote(o.cwd ?? '/project')} || exit 127`];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new InputError(`env: ${k}`, 'not a valid variable name');
    lines.push(`export ${k}=${shQuote(v)}`);
  }
  lines.push(`exec ${o.command.map(shQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function addHostPath(w: CpioWriter, guest: string, host: string, mode?: number): void {
  const st = statSync(host);
  if (st.isDirectory()) {
    w.dir(guest);
    for (const n of readdirSync(host).sort()) addHostPath(w, posix.join(guest, n), join(host, n));
  } else if (st.isFile()) w.file(guest, host, mode);
}

function appendFile(dst: number, src: string): void {
  const fd = openSync(src, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      let off = 0;
      while (off < n) off += writeSync(dst, buf, off, n - off);
    }
  } finally {
    closeSync(fd);
  }
}

/** Build the per-run initrd (base + project + run layers) in `dir`; returns its path. */
export function prepareInitrd(dir: string, o: VmRunOptions): string {
  try {
    return assembleInitrd(dir, o);
  } catch (e) {
    // Another process may have pruned the cached layer between our lookup and our copy, or
    // rewritten a project file (a concurrent build) while we packed it: build once more.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !/shrank while packing/.test(String(e))) throw e;
    return assembleInitrd(dir, o);
  }
}

function assembleInitrd(dir: string, o: VmRunOptions): string {
  const base = baseLayer();
  const project = projectLayer();
  const runPath = join(dir, 'run.cpio');
  const w = new CpioWriter(runPath);
  try {
    w.data('/ghost-vm/cmd', commandScript(o), 0o755);
    if (o.collect?.length) {
      const rel = o.collect.map((c) => shQuote(posix.normalize(c).replace(/^\/+/, '')));
      w.data('/ghost-vm/collect.sh', `set -- ${rel.join(' ')}\n`);
    }
    for (const f of o.files ?? []) {
      if (f.content !== undefined) w.data(f.guestPath, f.content, f.mode ?? 0o644);
      else if (f.hostPath !== undefined) addHostPath(w, f.guestPath, f.hostPath, f.mode);
    }
    w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
  const initrd = join(dir, 'initrd.cpio');
  // copyFileSync uses copy_file_range (in-kernel, often reflinked) for the big base layer.
  copyFileSync(base.path, initrd);
  const fd = openSync(initrd, 'a');
  try {
    appendFile(fd, project.path);
    appendFile(fd, runPath);
  } finally {
    closeSync(fd);
  }
  return initrd;
}
