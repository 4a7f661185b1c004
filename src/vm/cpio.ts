import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * Minimal writer for the `newc` cpio format, the one the kernel unpacks as an initramfs.
 *
 * Written here rather than shelling out to cpio(1) because an initramfs needs device nodes
 * (/dev/console) and fixed owners, which cpio(1) can only copy from a real tree (so: root and
 * mknod), and because we want byte-for-byte reproducible layers (mtime 0, sorted input) that
 * can be cached by content hash. The kernel accepts several archives concatenated, which is how
 * the base, project and per-run layers are combined without rewriting the big ones.
 */

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const CHUNK = 1 << 20;

export class CpioWriter {
  private readonly fd: number;
  private ino = 1;
  private readonly dirs = new Set<string>(['/']);
  private bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w', 0o644);
  }

  /** Directory (and any missing parents). */
  dir(path: string, mode = 0o755): void {
    const p = norm(path);
    if (this.dirs.has(p)) return;
    this.dir(posix.dirname(p));
    this.dirs.add(p);
    this.header(p, S_IFDIR | mode, 0, 2);
  }

  /** Regular file from memory. */
  data(path: string, content: Buffer | string, mode = 0o644): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    const buf = typeof content === 'string' ? Buffer.from(content) : content;
    this.header(p, S_IFREG | mode, buf.length, 1);
    this.write(buf);
    this.pad();
  }

  /** Regular file copied from the host, streamed so a 100 MB node binary is never in memory. */
  file(path: string, hostPath: string, mode?: number): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    const src = openSync(hostPath, 'r');
    try {
      const st = fstatSync(src);
      this.header(p, S_IFREG | (mode ?? st.mode & 0o7777), st.size, 1);
      const buf = Buffer.allocUnsafe(CHUNK);
      let left = st.size;
      while (left > 0) {
        const n = readSync(src, buf, 0, Math.min(CHUNK, left), null);
        if (n <= 0) throw new Error(`${hostPath}: file shrank while packing the initramfs`);
        this.write(buf.subarray(0, n));
        left -= n;
      }
      this.pad();
    } finally {
      closeSync(src);
    }
  }

  symlink(path: string, target: string): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    const t = Buffer.from(target);
    this.header(p, S_IFLNK | 0o777, t.length, 1);
    this.write(t);
    this.pad();
  }

  charDevice(path: string, major: number, minor: number, mode = 0o600): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    this.header(p, S_IFCHR | mode, 0, 1, major, minor);
  }

  /** Close without a trailer (the caller deletes the partial archive). */
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }

  /** Write the trailer and close. Returns the archive size in bytes. */
  finish(): number {
    this.header('TRAILER!!!', 0, 0, 1, 0, 0, true);
    closeSync(this.fd);
    return this.bytes;
  }

  private header(name: string, mode: number, size: number, nlink: number, rmaj = 0, rmin = 0, raw = false): void {
    // Archive names are relative ("bin/sh"), as the kernel and cpio(1) expect.
    const n = raw ? name : name.slice(1);
    const nameBuf = Buffer.from(`${n}\0`);
    const fields = [this.ino++, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, nameBuf.length, 0];
    const hdr = '070701' + fields.map((v) => v.toString(16).padStart(8, '0')).join('');
    this.write(Buffer.from(hdr, 'ascii'));
    this.write(nameBuf);
    this.pad();
  }

  private write(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.bytes += buf.length;
  }

  /** newc aligns every header+name and every file body to 4 bytes. */
  private pad(): void {
    const r = this.bytes % 4;
    if (r) this.write(Buffer.alloc(4 - r));
  }
}

function norm(path: string): string {
  // Refuse ".." outright: normalize() would silently clamp "/../x" to "/x", hiding a caller bug.
  if (path.split('/').includes('..')) throw new Error(`initramfs path escapes the root: ${path}`);
  const p = posix.normalize(path.startsWith('/') ? path : `/${path}`);
  return p !== '/' && p.endsWith('/') ? p.slice(0, -1) : p;
}
