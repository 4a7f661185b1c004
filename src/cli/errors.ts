import { ExitCode, InputError, UnsupportedError } from '../core/errors.js';
import { safeText } from '../core/terminal.js';

/**
 * A command line that cannot be run as given: a missing, unknown, repeated or conflicting flag
 * (exit 2). A flag whose *value* is wrong is an InputError (exit 3), like a bad trace line.
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super(message);
  }
}

/** Errno codes that mean "not allowed", whatever raised them (open, bind, bpf, ioctl). */
const PERMISSION_CODES = new Set(['EACCES', 'EPERM']);

/** Environment failures that are one line and a hint, never a stack. */
const ENVIRONMENT_HINTS: Record<string, string> = {
  EADDRINUSE: 'the port is in use: pick another one, or 0 for any free port',
  EADDRNOTAVAIL: 'no interface of this host has that address',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
};

function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause && cause !== err ? errnoOf(cause) : undefined;
}

/** EACCES/EPERM, whatever raised it (commands rethrow these as they are: exit 5). */
export function isPermissionError(err: unknown): boolean {
  const code = errnoOf(err);
  return code !== undefined && PERMISSION_CODES.has(code);
}

/** The README's exit code for an error any command threw. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.usage;
  if (errnoOf(err) !== undefined && PERMISSION_CODES.has(errnoOf(err)!)) return ExitCode.permission;
  if ((err as Error | undefined)?.name === 'PermissionError') return ExitCode.permission;
  if (err instanceof InputError) return ExitCode.badInput;
  if (err instanceof UnsupportedError) return ExitCode.unsupported;
  return ExitCode.failure;
}

/**
 * The one line printed for an error (no stack: set GHOST_ALPS_DEBUG=1 for one). Every part of
 * it that may quote user input is escaped, so a hostile name cannot drive the terminal.
 */
export function formatError(err: unknown): string {
  const code = exitCodeOf(err);
  const e = err as NodeJS.ErrnoException | undefined;
  const msg = safeText(e instanceof Error ? e.message : String(err));
  switch (code) {
    case ExitCode.usage:
      return `ghost-alps: ${msg}\n(run with --help for usage)`;
    case ExitCode.permission:
      return `ghost-alps: permission denied: ${msg}${/root|CAP_|chmod/.test(msg) ? '' : ' (check the file\'s permissions, or run as root / with the needed capability)'}`;
    case ExitCode.badInput:
      return `ghost-alps: bad input: ${msg}`;
    case ExitCode.unsupported:
      return `ghost-alps: unsupported here: ${msg}`;
  }
  const errno = errnoOf(err);
  const hint = errno ? ENVIRONMENT_HINTS[errno] : undefined;
  return `ghost-alps: ${msg}${hint ? ` (${hint})` : ''}`;
}

/** Print an error the way every command does and exit with its code. */
export function reportAndExit(err: unknown): never {
  process.stderr.write(`${formatError(err)}\n`);
  if (process.env['GHOST_ALPS_DEBUG'] === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCodeOf(err));
}
