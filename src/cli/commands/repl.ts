import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../core/errors.js';
import { RemoteBackend, SimBackend, type ReplBackend } from '../../repl/backend.js';
import { startRepl } from '../../repl/repl.js';
import { resolveToken, TelemetryClient } from '../../telemetry/client.js';
import { checkPort, liveOptions, liveRunOptions, type LiveArgs } from '../../telemetry/live/cli-options.js';
import { startLiveRun, type LiveRun } from '../../telemetry/live/run.js';
import { stateDir } from '../../telemetry/token.js';

interface ReplArgs extends LiveArgs {
  connect?: string;
  token?: string;
  'token-file'?: string;
  listen?: number;
  host: string;
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

export const replCommand: CommandModule<object, ReplArgs> = {
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
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'interface for --listen' })
        .conflicts('sim', 'connect'),
    ),
  handler: async (argv) => {
    if (!argv.sim && !argv.connect) throw new InputError('repl', 'give --sim WORKLOAD (embedded machine) or --connect URL (running publisher)');
    let backend: ReplBackend;
    let run: LiveRun | undefined;
    if (argv.sim) {
      run = await startLiveRun({
        ...liveRunOptions(argv),
        ...(argv.listen !== undefined ? { listen: { host: argv.host, port: checkPort(argv.listen, '--listen'), ...(argv.token ? { token: argv.token } : {}) } } : {}),
      });
      backend = new SimBackend(run.session, run.description);
      if (run.server) {
        process.stdout.write(`telemetry: ${run.server.url}${run.tokenFile ? ` (control token in ${run.tokenFile})` : ''}\n`);
      }
    } else {
      const url = argv.connect!;
      const token = resolveToken(url, argv.token, argv['token-file']);
      const client = await TelemetryClient.connect(url, token !== undefined ? { token } : {});
      client.on('close', (code: number, reason: string) => client.closing || process.stdout.write(`\n(telemetry connection closed: ${code}${reason ? ` ${reason}` : ''}; .exit to leave)\n`));
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
