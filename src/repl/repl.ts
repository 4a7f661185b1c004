import { mkdirSync, writeFileSync } from 'node:fs';
import { safeText } from '../core/terminal.js';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import repl, { type REPLServer } from 'node:repl';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { InputError } from '../core/errors.js';
import { parsePinArgs, parseSetArgs, SET_KEYS } from './args.js';
import type { ReplBackend } from './backend.js';
import { SimBackend } from './backend.js';
import { formatFuncs, formatParams, formatPolicy, formatTop } from './format.js';

export interface ReplOptions {
  input: Readable;
  output: Writable;
  /** Interactive terminal (line editing, colours). False when stdin is a pipe or a script. */
  terminal: boolean;
  /** Where to keep command history (terminal sessions only). */
  historyFile?: string;
}

const COMMANDS = ['.policy', '.funcs', '.params', '.set', '.pin', '.unpin', '.pause', '.resume', '.next', '.top', '.snapshot'];
const SIM_COMMANDS = ['.step', '.run', '.stop'];

/**
 * The ghost-alps REPL on node:repl: live objects in the context (`policy`, `learner`,
 * `functions`, `stats`, and `session` or `client`), dot-commands for the common moves, tab
 * completion of command arguments, and history. Resolves when the REPL exits.
 */
export function startRepl(backend: ReplBackend, opts: ReplOptions): Promise<void> {
  // Piped input is fed one line at a time, each after the previous command finished, so a
  // script like ".set alpha 3\n.next\n.policy" runs in order even though .next waits.
  const paced = !opts.terminal;
  const input = paced ? new PassThrough() : opts.input;
  const objects = ['policy', 'learner', 'functions', 'stats', 'backend', backend instanceof SimBackend ? 'session' : 'client'];
  opts.output.write(`${safeText(backend.describe())}\ncommands: ${[...COMMANDS, ...(backend instanceof SimBackend ? SIM_COMMANDS : [])].join(' ')} (.help for all)\nobjects: ${objects.join(', ')}\n`);
  const r: REPLServer = repl.start({ prompt: 'alps> ', input, output: opts.output, terminal: opts.terminal, useColors: opts.terminal, ignoreUndefined: true });
  // Everything a command prints may quote names from a trace or a remote publisher: escaped.
  const out = (text: string): void => {
    const safe = safeText(text, { keepNewlines: true });
    opts.output.write(safe.endsWith('\n') ? safe : `${safe}\n`);
  };
  let busy: Promise<void> | undefined;

  const command = (name: string, help: string, fn: (arg: string) => string | void | Promise<string | void>): void => {
    r.defineCommand(name, {
      help,
      action(arg: string) {
        r.clearBufferedCommand();
        let p: Promise<string | void>;
        try {
          p = Promise.resolve(fn(arg.trim()));
        } catch (err) {
          p = Promise.reject(err);
        }
        busy = p
          .then(
            (text) => {
              if (text) out(text);
            },
            (err: unknown) => out(`error: ${err instanceof InputError ? err.message : (err as Error).message}`),
          )
          .finally(() => {
            busy = undefined;
            r.displayPrompt();
          });
      },
    });
  };

  command('policy', 'Show the installed policy: generation, parameters, rank and slice per function', () => formatPolicy(backend.policy, backend.functions, backend.policyAtNs));
  command('funcs', 'List functions with invocations, mean/p99 turnaround, rank and slice', () => formatFuncs(backend.functions, backend.stats()?.funcs));
  command('params', 'Show the learner parameters in force', () => formatParams(backend.params));
  command('set', `Set learner parameters for the next generation: .set alpha 2 | .set alpha=2 beta=0.5 | .set window 3s (keys: ${SET_KEYS.join(', ')})`, async (arg) => {
    const patch = parseSetArgs(arg);
    await backend.setParams(patch);
    return `ok: ${Object.entries(patch).map(([k, v]) => `${k}=${v}`).join(' ')} applies from the next generation (after ${backend.policy?.generation ?? 0}); try .next`;
  });
  command('pin', 'Pin a function: .pin fib1 rank=1 [slice=20ms]', async (arg) => {
    const { func, pin } = parsePinArgs(arg);
    const id = backend.funcId(func);
    await backend.pin(id, pin);
    return `ok: ${func} pinned (${Object.entries(pin).map(([k, v]) => `${k}=${v}`).join(' ')}) from the next generation`;
  });
  command('unpin', 'Release a pinned function: .unpin fib1', async (arg) => {
    if (!arg) throw new InputError('.unpin', 'usage: .unpin FUNC');
    await backend.unpin(backend.funcId(arg));
    return `ok: ${arg} unpinned`;
  });
  command('pause', 'Pause learning (the installed policy stays in force)', async () => {
    await backend.pause();
    return 'learning paused';
  });
  command('resume', 'Resume learning', async () => {
    await backend.resume();
    return 'learning resumed';
  });
  command('next', 'Wait for the next policy generation and show it', async () => {
    const p = await backend.nextPolicy(backend.policy?.generation ?? 0);
    return formatPolicy(p, backend.functions, backend.policy === p ? backend.policyAtNs : undefined);
  });
  command('top', 'Throughput, utilisation and the functions with the worst p99 turnaround', () => formatTop(backend.stats()?.funcs, backend.lastUtil(), backend.learning));
  command('snapshot', 'Print the full state as JSON, or write it: .snapshot FILE', async (arg) => {
    const snap = await backend.snapshot();
    const text = JSON.stringify(snap, null, 2);
    if (!arg) return text;
    writeFileSync(arg, `${text}\n`);
    return `wrote ${arg}`;
  });
  if (backend instanceof SimBackend) {
    const session = backend.session;
    command('step', 'Advance the simulated machine: .step [N] steps', (arg) => {
      const n = arg ? Number(arg) : 1;
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InputError('.step', `N must be an integer in 1..10000, got ${JSON.stringify(arg)}`);
      let last = session.lastStep;
      for (let i = 0; i < n && !session.done; i++) last = session.step();
      return `t=${(session.nowNs / 1e9).toFixed(1)}s completed=${session.records.length} generation=${session.policy?.generation ?? 0}${last?.done ? ' (workload finished)' : ''}`;
    });
    command('run', 'Step continuously in the background: .run [INTERVAL_MS] (default 500)', (arg) => {
      const ms = arg ? Number(arg) : 500;
      if (!(ms >= 10 && ms <= 60_000)) throw new InputError('.run', `interval must be 10..60000 ms, got ${JSON.stringify(arg)}`);
      session.start(ms);
      return `running: one step every ${ms} ms (.stop to stop)`;
    });
    command('stop', 'Stop background stepping', () => {
      session.stop();
      return `stopped at t=${(session.nowNs / 1e9).toFixed(1)}s`;
    });
  }

  // Live objects: getters so `policy` is always the newest generation, not a stale copy.
  const learner = {
    get params() {
      return backend.params;
    },
    get current() {
      return backend.policy;
    },
    setParams: (patch: Record<string, unknown>) => backend.setParams(patch),
    pause: () => backend.pause(),
    resume: () => backend.resume(),
    pin: (func: string | number, pin: { rank?: number; sliceNs?: number }) => backend.pin(backend.funcId(String(func)), pin),
    unpin: (func: string | number) => backend.unpin(backend.funcId(String(func))),
  };
  const live: Record<string, () => unknown> = {
    policy: () => backend.policy,
    functions: () => backend.functions,
    stats: () => backend.stats(),
    learner: () => learner,
    backend: () => backend,
    ...(backend instanceof SimBackend ? { session: () => backend.session } : {}),
    ...(backend.kind === 'remote' ? { client: () => (backend as unknown as { client: unknown }).client } : {}),
  };
  for (const [k, get] of Object.entries(live)) Object.defineProperty(r.context, k, { get, enumerable: true, configurable: true });

  // Complete command arguments (parameter keys, function names); anything else goes to the
  // default completer (context objects, properties, dot-command names).
  const fallback = r.completer.bind(r);
  const completer = (line: string, cb: (err?: Error | null, result?: [string[], string]) => void): void => {
    const mine = completeArgs(line, backend);
    if (mine) cb(null, mine);
    else fallback(line, cb);
  };
  (r as unknown as { completer: typeof completer }).completer = completer;

  if (opts.terminal && opts.historyFile) {
    mkdirSync(dirname(opts.historyFile), { recursive: true, mode: 0o700 });
    r.setupHistory(opts.historyFile, (err) => {
      if (err) out(`(no history: ${err.message})`);
    });
  }

  const exited = new Promise<void>((resolve) => r.on('exit', () => resolve()));
  if (paced) void feedLines(opts.input, input as PassThrough, () => busy);
  return exited.then(() => backend.close());
}

/** Completions for dot-command arguments, or undefined when the line is not one. */
export function completeArgs(line: string, backend: Pick<ReplBackend, 'functions'>): [string[], string] | undefined {
  const m = /^\.(set|pin|unpin)\s+(\S*)$/.exec(line);
  if (!m) return undefined;
  const pool = m[1] === 'set' ? SET_KEYS : backend.functions.map((f) => f.name);
  const word = m[2]!;
  return [pool.filter((x) => x.startsWith(word)), word];
}

async function feedLines(src: Readable, sink: PassThrough, busy: () => Promise<void> | undefined): Promise<void> {
  const rl = createInterface({ input: src, crlfDelay: Infinity });
  const settle = (): Promise<void> => new Promise((res) => setImmediate(res));
  for await (const line of rl) {
    sink.write(`${line}\n`);
    await settle();
    await settle();
    for (let b = busy(); b; b = busy()) await b;
  }
  sink.end();
}
