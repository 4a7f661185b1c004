import type { Argv } from 'yargs';
import type { LiveRun } from '../../telemetry/live/run.js';
import { UsageError } from '../errors.js';
import { hostFlag, numFlag } from '../flags.js';
import { checkPort, liveOptions, liveRunOptions, refuseSimFlags, untilSignal, type LiveArgs } from '../live-options.js';
import type { CliCommand } from '../program.js';

interface DashboardArgs extends LiveArgs {
  connect?: string;
  port: number;
  host?: string;
  'ws-port'?: number;
  token?: string;
  interval?: number;
  json: boolean;
}

/** Flag checks before any socket or token file exists (also the fuzz suite's entry point). */
export function checkDashboardArgs(argv: DashboardArgs): void {
  if (!argv.sim && !argv.connect) throw new UsageError('dashboard needs --connect URL (running publisher) or --sim WORKLOAD (embedded machine)');
  if (argv.sim && argv.connect) throw new UsageError('--sim and --connect cannot be used together');
  checkPort(argv.port, '--port');
  hostFlag(argv.host);
  if (argv.connect) {
    refuseSimFlags(argv);
    for (const [k, v] of [['ws-port', argv['ws-port']], ['token', argv.token], ['interval', argv.interval]] as const) {
      if (v !== undefined) throw new UsageError(`--${k} is for --sim (the embedded run); it cannot be used with --connect`);
    }
    if (!/^wss?:\/\/[^\s]+$/.test(argv.connect)) throw new UsageError(`--connect expects a ws:// URL (e.g. ws://127.0.0.1:8089), got '${argv.connect}'`);
    return;
  }
  checkPort(argv['ws-port'] ?? 8089, '--ws-port');
  numFlag('--interval', argv.interval ?? 500, 10, 60_000, true);
  liveRunOptions(argv);
}

const EXAMPLES = `Examples:
  ghost-alps dashboard --sim huawei
  # simulate an 8-CPU host with the ALPS learner live, publish on ws://127.0.0.1:8089 and
  # serve the page on http://127.0.0.1:8090/ (open it in a browser; Ctrl-C to stop)
  ghost-alps dashboard --connect ws://127.0.0.1:8089 --port 8091
  # a page for a publisher that is already running (e.g. \`ghost-alps repl --sim huawei --listen 8089\`)
  ghost-alps dashboard --sim azure --cpus 4 --invocations 6000 --port 0 --ws-port 0 --json
  # any free ports; prints {"page":…,"ws":…,"tokenFile":…} for scripts`;

export const dashboardCommand: CliCommand<DashboardArgs> = {
  command: 'dashboard',
  describe: 'serve the live dashboard (policy table, turnaround CDFs, utilisation timeline)',
  builder: (y: Argv) =>
    liveOptions(
      y
        .usage(`ghost-alps dashboard (--connect URL | --sim WORKLOAD) [options]\n\nServes a static page (vega/vega-lite bundled from this package, no CDN) that subscribes to a\ntelemetry socket. With --sim it also runs an embedded simulated machine and publishes it.\n\n${EXAMPLES}`)
        .option('connect', { type: 'string', describe: 'telemetry socket the page subscribes to (ws://127.0.0.1:PORT)' })
        .option('port', { type: 'number', default: 8090, describe: 'HTTP port of the page (0 = any free port)' })
        .option('host', { type: 'string', describe: 'interface to bind the page and, with --sim, the socket: an IP address (an empty host is refused) [default: 127.0.0.1]' })
        .option('ws-port', { type: 'number', describe: 'with --sim: telemetry socket port (0 = any free port) [default: 8089]' })
        .option('token', { type: 'string', describe: 'with --sim: control token to accept (default: a fresh one in a 0600 file)' })
        .option('interval', { type: 'number', describe: 'with --sim: wall-clock ms between steps, 10..60000 [default: 500]' })
        .option('json', { type: 'boolean', default: false, describe: 'print the addresses as one JSON line' }),
    ),
  check: checkDashboardArgs,
  handler: async (argv) => {
    checkDashboardArgs(argv);
    const host = hostFlag(argv.host);
    const interval = argv.interval ?? 500;
    const [{ TelemetryClient }, { serveDashboard }, { startLiveRun }] = await Promise.all([
      import('../../telemetry/client.js'),
      import('../../telemetry/dashboard/server.js'),
      import('../../telemetry/live/run.js'),
    ]);
    let run: LiveRun | undefined;
    let page: Awaited<ReturnType<typeof serveDashboard>> | undefined;
    try {
      let wsUrl: string;
      if (argv.sim) {
        run = await startLiveRun({
          ...liveRunOptions(argv),
          listen: { host, port: checkPort(argv['ws-port'] ?? 8089, '--ws-port'), ...(argv.token ? { token: argv.token } : {}) },
        });
        wsUrl = run.server!.url;
      } else {
        wsUrl = argv.connect!;
        // Fail here, with the reason, rather than leave a page that silently cannot connect.
        (await TelemetryClient.connect(wsUrl)).close();
      }
      page = await serveDashboard({ wsUrl, host, port: checkPort(argv.port, '--port') });
      if (argv.json) process.stdout.write(`${JSON.stringify({ page: page.url, ws: wsUrl, tokenFile: run?.tokenFile ?? null })}\n`);
      else {
        process.stdout.write(`dashboard: ${page.url}\ntelemetry: ${wsUrl}${run?.tokenFile ? `\ncontrol token: ${run.tokenFile} (0600)` : ''}\n`);
        process.stdout.write(run ? `simulating ${run.description}; Ctrl-C to stop\n` : 'Ctrl-C to stop\n');
      }
      run?.session.start(interval, (r) => {
        if (r.done && !argv.json) process.stdout.write(`workload finished at t=${(r.nowNs / 1e9).toFixed(1)} s (${r.completed} invocations); still serving\n`);
      });
      await untilSignal();
    } finally {
      // Also on a failed start (the page's port in use, …): the token file goes with the run.
      await page?.close();
      await run?.close();
    }
  },
};

export default dashboardCommand;
