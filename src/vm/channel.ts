import { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, posix } from 'node:path';

/**
 * The host ends of the guest's channels. qemu writes each channel to a regular file and we
 * read the new bytes as they arrive. A file, not a socket or pipe: qemu's UART drops a byte
 * after a few failed non-blocking writes, which happens when a busy host reads a socket too
 * slowly; a write to a regular file never fails that way.
 */
export class Channel {
  readonly chunks: Buffer[] = [];
  private fd: number | undefined;
  private offset = 0;
  private readonly buf = Buffer.allocUnsafe(1 << 16);

  constructor(
    readonly path: string,
    private readonly onData: (b: Buffer) => void,
  ) {
    closeSync(openSync(path, 'w'));
  }

  /** Read whatever qemu appended since the last call. */
  drain(): void {
    this.fd ??= openSync(this.path, 'r');
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) return;
      this.offset += n;
      const b = Buffer.from(this.buf.subarray(0, n));
      this.chunks.push(b);
      this.onData(b);
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The control channel's lines: `GHOSTVM READY <guest uptime s>`, then `GHOSTVM EXIT <code>`. */
export class ControlLines {
  ready: { hostMs: number; guestMs: number } | undefined;
  exitCode: number | undefined;
  private buf = '';

  constructor(
    private readonly hostClock: () => number,
    private readonly onReady?: (hostMs: number) => void,
  ) {}

  feed(b: Buffer): void {
    this.buf += b.toString('latin1');
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      const r = /^GHOSTVM READY ([\d.]+)$/.exec(line);
      if (r?.[1]) {
        this.ready = { hostMs: this.hostClock(), guestMs: Number(r[1]) * 1000 };
        this.onReady?.(this.ready.hostMs);
      }
      const e = /^GHOSTVM EXIT (\d+)$/.exec(line);
      if (e?.[1]) this.exitCode = Number(e[1]);
    }
  }
}

/** Unpack the concatenated tar archives the guest sent back; guest path -> content. */
export function readCollected(tarPath: string, into: string): Record<string, Buffer> {
  if (statSync(tarPath).size === 0) return {};
  mkdirSync(into);
  // -i: the guest sends one archive per requested path, back to back.
  const r = spawnSync('tar', ['-x', '-i', '-f', tarPath, '-C', into, '--no-same-owner'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`collect: cannot unpack what the guest sent: ${r.stderr || r.error?.message}`);
  const out: Record<string, Buffer> = {};
  const walk = (d: string, guest: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, posix.join(guest, e.name));
      else if (e.isFile()) out[posix.join(guest, e.name)] = readFileSync(p);
    }
  };
  walk(into, '/');
  return out;
}
