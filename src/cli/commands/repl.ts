import { join } from 'node:path';
import type { Argv } from 'yargs';
import { safeText } from '../../core/terminal.js';
import type { ReplBackend } from '../../repl/backend.js';
import type { LiveRun } from '../../telemetry/live/run.js';
import { UsageError } from '../errors.js';
import { hostFlag } from '../flags.js';
import { checkPort, liveOptions, liveRunOptions, refuseSimFlags, type LiveArgs } from '../live-options.js';
import type { CliCommand } from '../program.js';

interface ReplArgs extends LiveArgs {
  connect?: string;
  token?: string;
  'token-file'?: string;
  listen?: number;
  host?: string;
}

/** Flag checks before any socket or token file exists (also the fuzz suite's entry point). */
export function checkReplArgs(argv: ReplArgs): void {
  if (!argv.sim && !argv.connect) throw new UsageError('repl needs --sim WORKLOAD (embedded machine) or --connect URL (running publisher)');
  if (argv.sim && argv.connect) throw new UsageError('--sim and --connect cannot be used together');
  if (argv.connect) {
    refuseSimFlags(argv);
    for (const [k, v] of [['listen', argv.listen], ['host', argv.host]] as const) if (v !== undefined) throw new UsageError(`--${k} is for --sim (publishing an embedded run); it cannot be used with --connect`);
    if (!/^wss?:\/\/[^\s]+$/.test(argv.connect)) throw new UsageError(`--connect expects a ws:// URL (e.g. ws://127.0.0.1:8089), got '${argv.connect}'`);
    if (argv.token !== undefined && argv['token-file'] !== undefined) throw new UsageError('--token and --token-file cannot be used together');
    return;
  }
  if (argv['token-file'] !== undefined) throw new UsageError('--token-file is for --connect (reading a running publisher\'s token); with --sim --listen use --token');
  if (argv.listen === undefined) {
    for (const [k, v] of [['host', argv.host], ['token', argv.token]] as const) if (v !== undefined) throw new UsageError(`--${k} is for --listen (publishing the embedded run); add --listen PORT or drop it`);
  } else {
    checkPort(argv.listen, '--listen');
    hostFlag(argv.host);
  }
  liveRunOptions(argv);
}

const EXAMPLES = `Examples:
  ghost-alps repl --sim huawei
  # an 8-CPU simulated machine with the ALPS learner in the loop; try .step 6, .policy,
  # .set alpha 3, .next, .pin fib1 rank=1, .top
  printf '.step 6\\n.policy\\n.set alpha 3\\n.next\\n' | ghost-alps repl --sim huawei
  # the same, scripted through stdin (commands run one after another)
  ghost-alps repl --sim huawei --listen 8089
  # also publish telemetry on ws://127.0.0.1:8089 (token file in ~/.ghost-alps)
  ghost-alps repl --connect ws://127.0.0.1:8089
  # attach to a running publisher (e.g. \`ghost-alps dashboard --sim huawei\`); the token
  # is read from its 0600 token file, or give --token`;

export const replCommand: CliCommand<ReplArgs> = {
  command: 'repl',
  describe: 'interactive REPL: watch and steer the learner (embedded simulated machine or a live publisher)',
  builder: (y: Argv) =>
    liveOptions(
      y
        .usage(`ghost-alps repl (--sim WORKLOAD | --connect URL) [options]\n\nA node REPL with the live objects in context (policy, learner, functions, stats, session|client)\nand commands .policy .funcs .params .set .pin .unpin .pause .resume .next .top .snapshot\n(--sim adds .step .run .stop). Tab completes commands, parameter keys and function names.\n\n${EXAMPLES}`)
        .option('connect', { type: 'string', describe: 'telemetry socket of a running publisher (ws://127.0.0.1:PORT)' })
        .option('token', { type: 'string', describe: 'control token (default: $GHOST_ALPS_TOKEN, else the server’s token file)' })
        .option('token-file', { type: 'string', describe: 'read the control token from this file' })
        .option('listen', { type: 'number', describe: 'with --sim: also publish telemetry on this port (0 = any free port)' })
        .option('host', { type: 'string', describe: 'with --listen: interface to bind, an IP address (an empty host is refused) [default: 127.0.0.1]' }),
    ),
  check: checkReplArgs,
  handler: async (argv) => {
    checkReplArgs(argv);
    const [{ RemoteBackend, SimBackend }, { startRepl }, { resolveToken, TelemetryClient }, { startLiveRun }, { stateDir }] = await Promise.all([
      import('../../repl/backend.js'),
      import('../../repl/repl.js'),
      import('../../telemetry/client.js'),
      import('../../telemetry/live/run.js'),
      import('../../telemetry/token.js'),
    ]);
    let backend: ReplBackend;
    let run: LiveRun | undefined;
    if (argv.sim) {
      run = await startLiveRun({
        ...liveRunOptions(argv),
        ...(argv.listen !== undefined ? { listen: { host: hostFlag(argv.host), port: checkPort(argv.listen, '--listen'), ...(argv.token ? { token: argv.token } : {}) } } : {}),
      });
      backend = new SimBackend(run.session, run.description);
      if (run.server) {
        process.stdout.write(`telemetry: ${run.server.url}${run.tokenFile ? ` (control token in ${run.tokenFile})` : ''}\n`);
      }
    } else {
      const url = argv.connect!;
      const token = resolveToken(url, argv.token, argv['token-file']);
      const client = await TelemetryClient.connect(url, token !== undefined ? { token } : {});
      client.on('close', (code: number, reason: string) => client.closing || process.stdout.write(`\n(telemetry connection closed: ${code}${reason ? ` ${safeText(reason)}` : ''}; .exit to leave)\n`));
      backend = new RemoteBackend(client, url);
    }
    try {
      await startRepl(backend, {
        input: process.stdin,
        output: process.stdout,
        terminal: Boolean(process.stdin.isTTY && process.stdout.isTTY),
        historyFile: join(stateDir(), 'repl_history'),
      });
    } finally {
      await run?.close();
    }
  },
};

export default replCommand;
