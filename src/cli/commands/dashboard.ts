import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../core/errors.js';
import { TelemetryClient } from '../../telemetry/client.js';
import { serveDashboard } from '../../telemetry/dashboard/server.js';
import { checkPort, liveOptions, liveRunOptions, untilSignal, type LiveArgs } from '../live-options.js';
import { startLiveRun, type LiveRun } from '../../telemetry/live/run.js';

interface DashboardArgs extends LiveArgs {
  connect?: string;
  port: number;
  host: string;
  'ws-port': number;
  token?: string;
  interval: number;
  json: boolean;
}

const EXAMPLES = `Examples:
  ghost-alps dashboard --sim huawei
  # simulate an 8-CPU host with the ALPS learner live, publish on ws://127.0.0.1:8089 and
  # serve the page on http://127.0.0.1:8090/ (open it in a browser; Ctrl-C to stop)
  ghost-alps dashboard --connect ws://127.0.0.1:8089 --port 8091
  # a page for a publisher that is already running (e.g. \`ghost-alps repl --sim huawei --listen 8089\`)
  ghost-alps dashboard --sim azure --cpus 4 --invocations 6000 --port 0 --ws-port 0 --json
  # any free ports; prints {"page":…,"ws":…,"tokenFile":…} for scripts`;

export const dashboardCommand: CommandModule<object, DashboardArgs> = {
  command: 'dashboard',
  describe: 'serve the live dashboard (policy table, turnaround CDFs, utilisation timeline)',
  builder: (y: Argv) =>
    liveOptions(
      y
        .usage(`ghost-alps dashboard (--connect URL | --sim WORKLOAD) [options]\n\nServes a static page (vega/vega-lite bundled from this package, no CDN) that subscribes to a\ntelemetry socket. With --sim it also runs an embedded simulated machine and publishes it.\n\n${EXAMPLES}`)
        .option('connect', { type: 'string', describe: 'telemetry socket the page subscribes to (ws://127.0.0.1:PORT)' })
        .option('port', { type: 'number', default: 8090, describe: 'HTTP port of the page (0 = any free port)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'interface to bind the page and, with --sim, the socket' })
        .option('ws-port', { type: 'number', default: 8089, describe: 'with --sim: telemetry socket port (0 = any free port)' })
        .option('token', { type: 'string', describe: 'with --sim: control token to accept (default: a fresh one in a 0600 file)' })
        .option('interval', { type: 'number', default: 500, describe: 'with --sim: wall-clock ms between steps' })
        .option('json', { type: 'boolean', default: false, describe: 'print the addresses as one JSON line' })
        .conflicts('sim', 'connect'),
    ),
  handler: async (argv) => {
    if (!argv.sim && !argv.connect) throw new InputError('dashboard', 'give --connect URL (running publisher) or --sim WORKLOAD (embedded machine)');
    if (!(argv.interval >= 10 && argv.interval <= 60_000)) throw new InputError('--interval', `must be 10..60000 ms, got ${argv.interval}`);
    let run: LiveRun | undefined;
    let wsUrl: string;
    if (argv.sim) {
      run = await startLiveRun({
        ...liveRunOptions(argv),
        listen: { host: argv.host, port: checkPort(argv['ws-port'], '--ws-port'), ...(argv.token ? { token: argv.token } : {}) },
      });
      wsUrl = run.server!.url;
    } else {
      wsUrl = argv.connect!;
      // Fail here, with the reason, rather than leave a page that silently cannot connect.
      (await TelemetryClient.connect(wsUrl)).close();
    }
    const page = await serveDashboard({ wsUrl, host: argv.host, port: checkPort(argv.port, '--port') });
    if (argv.json) process.stdout.write(`${JSON.stringify({ page: page.url, ws: wsUrl, tokenFile: run?.tokenFile ?? null })}\n`);
    else {
      process.stdout.write(`dashboard: ${page.url}\ntelemetry: ${wsUrl}${run?.tokenFile ? `\ncontrol token: ${run.tokenFile} (0600)` : ''}\n`);
      process.stdout.write(run ? `simulating ${run.description}; Ctrl-C to stop\n` : 'Ctrl-C to stop\n');
    }
    run?.session.start(argv.interval, (r) => {
      if (r.done && !argv.json) process.stdout.write(`workload finished at t=${(r.nowNs / 1e9).toFixed(1)} s (${r.completed} invocations); still serving\n`);
    });
    await untilSignal();
    await page.close();
    await run?.close();
  },
};

export default dashboardCommand;
