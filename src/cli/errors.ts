import { ExitCode, InputError, UnsupportedError } from '../core/errors.js';

/** Print an error the way every command does and exit with its code. */
export function reportAndExit(err: unknown): never {
  if (err instanceof InputError) {
    process.stderr.write(`ghost-alps: bad input: ${err.message}\n`);
    process.exit(ExitCode.badInput);
  }
  if (err instanceof UnsupportedError) {
    process.stderr.write(`ghost-alps: unsupported here: ${err.message}\n`);
    process.exit(ExitCode.unsupported);
  }
  const e = err as NodeJS.ErrnoException;
  if (e && (e.code === 'EPERM' || e.code === 'EACCES')) {
    process.stderr.write(`ghost-alps: permission denied: ${e.message} (run as root or with CAP_SYS_ADMIN/CAP_BPF)\n`);
    process.exit(ExitCode.permission);
  }
  process.stderr.write(`ghost-alps: ${e?.stack ?? String(err)}\n`);
  process.exit(ExitCode.failure);
}
