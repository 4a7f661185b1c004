import yargs, { type Argv, type CommandModule } from 'yargs';
import { InputError } from '../core/errors.js';
import { safeText } from '../core/terminal.js';
import { UsageError } from './errors.js';

/**
 * The parser every `ghost-alps` invocation goes through (main.ts runs it; the fuzz suite runs it
 * in-process with each command's `check` as the handler). Beyond yargs' own strict checks
 * (unknown flags, missing required ones, declared conflicts), it rejects what yargs lets pass:
 * a single-value flag given twice (yargs makes an array, and one value silently wins), a flag
 * without its value, and a number flag whose value is not a number (yargs makes it null, so
 * messages said "got null" instead of what was typed).
 */

/** A command module that can also validate its flags without running (the fuzz suite's hook). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface CliCommand<A = any> extends CommandModule<object, A> {
  /** Throws UsageError / InputError for flags the handler would refuse; does no work. */
  check?: (argv: A) => void | Promise<void>;
}

export const INTRO = `ghost-alps: ALPS serverless scheduling — learn a policy, enforce it in-kernel (sched_ext)
or delegated (ghOSt), and compare schedulers.

Try first:
  ghost-alps simulate                compare CFS, EEVDF, SRPT, SFS and ALPS on a simulated 8-CPU host
  ghost-alps learn --help            learn a policy from an invocation trace
  ghost-alps repl --sim huawei       steer the learner live on a simulated host (.set alpha 3, .next)
  ghost-alps dashboard --sim huawei  the same live run as a page on http://127.0.0.1:8090/
  ghost-alps <command> --help        every command has a worked example
  source <(ghost-alps completion)    tab completion in bash/zsh`;

/**
 * `--trace -` (a flag whose value is `-`, i.e. stdin) written as `--trace=-`: yargs would
 * otherwise take `-` for a positional argument and leave the flag empty.
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  const dd = argv.indexOf('--');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const prev = out[out.length - 1];
    if (a === '-' && (dd < 0 || i < dd) && prev !== undefined && /^--[A-Za-z][\w-]*$/.test(prev) && !prev.startsWith('--no-')) {
      out[out.length - 1] = `${prev}=-`;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** The text the user typed after `--key` (for messages), or undefined. */
export function rawValue(argv: readonly string[], key: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith(`--${key}=`)) return a.slice(key.length + 3);
    if (a === `--${key}`) return argv[i + 1];
  }
  return undefined;
}

const INTERNAL_KEYS = new Set(['_', '$0', '--']);

/** Rejects repeated single-value flags, empty values and non-numbers (see the module comment). */
export function checkParsedFlags(parsed: Record<string, unknown>, raw: readonly string[], repeatable: ReadonlySet<string> = new Set()): void {
  for (const key of Object.keys(parsed)) {
    if (INTERNAL_KEYS.has(key)) continue;
    // Options declared `array: true` (vm run --file/--env/..., positional cmd..) are meant to repeat.
    if (repeatable.has(key) && Array.isArray(parsed[key])) continue;
    // yargs mirrors `window-ms` as `windowMs`; judge the spelling the user typed.
    if (/[A-Z]/.test(key) && Object.hasOwn(parsed, key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))) continue;
    const v = parsed[key];
    const flag = `--${key}`;
    if (Array.isArray(v)) throw new UsageError(`${flag} was given ${v.length} times; give it once`);
    if (v === '') {
      const extra = key === 'host' ? ' (an empty host would mean every interface; the default is 127.0.0.1)' : '';
      throw new UsageError(`${flag} needs a value${extra}`);
    }
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) {
      const given = rawValue(raw, key);
      throw new InputError(flag, `expected a number, got ${given === undefined ? 'nothing' : `'${given}'`}`);
    }
  }
}

/**
 * The configured parser for `argv` (already normalised). `onUsage` receives yargs' own usage
 * failures (unknown or missing flags, declared conflicts).
 */
export function buildParser(argv: string[], commands: readonly CliCommand[], onUsage: (err: UsageError) => void): Argv {
  let cli: Argv = yargs(argv)
    .scriptName('ghost-alps')
    .usage(INTRO)
    .strict()
    .recommendCommands()
    .completion('completion', 'print a bash/zsh completion script')
    .help()
    .alias('h', 'help')
    .version()
    // yargs lays out the whole help text before every command handler (to have it for a later
    // failure); wrapping it costs more than the rest of start-up, so only help output is wrapped.
    .wrap(argv.some((a) => a === '--help' || a === '-h' || a === 'help') || argv.length === 0 ? Math.min(110, process.stdout.columns || 100) : null)
    // cli.getOptions() during parsing is the active command's options (its `array` list).
    .middleware((parsed) => checkParsedFlags(parsed as Record<string, unknown>, argv, new Set((cli as unknown as { getOptions(): { array: string[] } }).getOptions().array)), true)
    .fail((msg, err) => {
      if (err) throw err;
      onUsage(new UsageError(safeText(msg ?? 'bad command line')));
    });
  for (const c of commands) cli = cli.command(c);
  return cli;
}
