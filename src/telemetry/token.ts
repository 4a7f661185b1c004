import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.js';

/**
 * The control token of one telemetry run. Control operations (set parameters, pause, pin,
 * snapshot) must carry it; reading the stream does not. A fresh token is generated per run
 * and written to a file only its owner can read (0600 in a 0700 directory), or the operator
 * supplies one with `--token`.
 */

/** Where runs keep their token files: $GHOST_ALPS_STATE_DIR, else ~/.ghost-alps. */
export function stateDir(): string {
  return process.env['GHOST_ALPS_STATE_DIR'] || join(homedir(), '.ghost-alps');
}

/** Token file of the server listening on `port` (what `--connect` looks up by default). */
export function tokenPathFor(port: number): string {
  return join(stateDir(), `telemetry-${port}.token`);
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Write `token` to `path` with mode 0600 (creating the directory 0700), replacing any old file. */
export function writeTokenFile(path: string, token: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Remove first so an old file with looser permissions (or a symlink planted there) is not reused.
  try {
    unlinkSync(path);
  } catch {
    /* absent */
  }
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    // The umask cannot widen 0600, but make the mode explicit whatever the umask was.
    if ((fstatSync(fd).mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** Read a token file; refuses files others can read, since the token grants control. */
export function readTokenFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    throw new InputError(path, 'no token file here (start the server first, or pass --token)');
  }
  if ((mode & 0o077) !== 0) throw new InputError(path, `token file is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  const token = readFileSync(path, 'utf8').trim();
  if (!token) throw new InputError(path, 'token file is empty');
  return token;
}

/** Constant-time comparison (hash first so lengths do not leak either). */
export function tokenMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** Delete a token file written by this run (best effort: the run is ending anyway). */
export function removeTokenFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
