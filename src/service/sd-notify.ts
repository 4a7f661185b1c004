/**
 * sd_notify(3) for `Type=notify` units: READY=1 once the scheduler is attached, RELOADING=1 /
 * READY=1 around a config reload, STOPPING=1 on the way out, STATUS= lines for
 * `systemctl status`.
 *
 * The protocol is one datagram of `KEY=VALUE\n` lines to the AF_UNIX socket in $NOTIFY_SOCKET.
 * Node's core has no AF_UNIX datagram sockets (node:dgram is UDP only), so "a few lines with a
 * datagram socket" needs native code: the `unix-dgram` package (a small, widely used nan addon,
 * an optional dependency) does exactly that. Where it is missing (its build failed)
 * or the socket is in the abstract namespace (`@…`, which unix-dgram cannot address), we run
 * systemd's own `systemd-notify`, present wherever systemd set NOTIFY_SOCKET; it waits until
 * the manager has read the message, so a message from that child is not lost (the unit
 * says NotifyAccess=all for this case).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  close(): void;
  on(ev: 'error', cb: (e: Error) => void): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

let unixDgram: UnixDgram | null | undefined;
/** The optional native module, or null when it is not installed / did not build. */
export function loadUnixDgram(): UnixDgram | null {
  if (unixDgram === undefined) {
    try {
      unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
    } catch {
      unixDgram = null;
    }
  }
  return unixDgram;
}

export type NotifyState = Record<string, string | number>;

/** The datagram's text: one KEY=VALUE per line; newlines inside values would end the field. */
export function formatNotify(state: NotifyState): string {
  return Object.entries(state)
    .map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`sd_notify: bad key ${k}`);
      return `${k}=${String(v).replace(/\n/g, ' ')}`;
    })
    .join('\n');
}

export interface Notifier {
  /** The socket messages go to (undefined: not started by systemd; notify() is a no-op). */
  readonly socket: string | undefined;
  /** Sends one message; resolves false if there is no socket, rejects if sending failed. */
  notify(state: NotifyState): Promise<boolean>;
  close(): void;
}

export function createNotifier(socket: string | undefined = process.env.NOTIFY_SOCKET): Notifier {
  const path = socket && socket.length > 0 ? socket : undefined;
  const mod = path && path.startsWith('/') ? loadUnixDgram() : null;
  let sock: DgramSocket | undefined;
  return {
    socket: path,
    notify(state) {
      if (!path) return Promise.resolve(false);
      const text = formatNotify(state);
      if (mod) {
        sock ??= mod.createSocket('unix_dgram');
        const buf = Buffer.from(text);
        return new Promise((resolve, reject) => sock!.send(buf, 0, buf.length, path, (err) => (err ? reject(new Error(`sd_notify to ${path}: ${err.message}`)) : resolve(true))));
      }
      return new Promise((resolve, reject) => {
        const child = spawn('systemd-notify', text.split('\n'), { stdio: 'ignore', env: { ...process.env, NOTIFY_SOCKET: path } });
        child.once('error', (e) => reject(new Error(`sd_notify via systemd-notify: ${e.message}`)));
        child.once('exit', (code) => (code === 0 ? resolve(true) : reject(new Error(`systemd-notify exited with ${code}`))));
      });
    },
    close() {
      sock?.close();
      sock = undefined;
    },
  };
}
