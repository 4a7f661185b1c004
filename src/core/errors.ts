/**
 * Errors that name the input and what is wrong with it. Every user-facing failure in
 * ghost-alps (bad trace line, bad flag, bad policy, kernel refusal) is one of these, so the
 * CLI can print `input: problem` and exit with a meaningful code.
 */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  constructor(
    /** What was bad: a file:line, a flag, a map key, a socket message. */
    readonly input: string,
    /** What was wrong with it. */
    readonly problem: string,
  ) {
    super(`${input}: ${problem}`);
  }
}

/** The environment cannot do what was asked (no sched_ext, no ghostfs, no privilege). */
export class UnsupportedError extends Error {
  override readonly name: string = 'UnsupportedError';
  constructor(
    readonly what: string,
    readonly reason: string,
    /** What the user can do about it. */
    readonly hint?: string,
  ) {
    super(`${what}: ${reason}${hint ? ` (${hint})` : ''}`);
  }
}

/** Exit codes shared by every CLI command. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  unsupported: 4,
  permission: 5,
} as const;
