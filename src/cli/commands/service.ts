/**
 * `ghost-alps service print-unit|install|uninstall|check-config`: run the agent as a systemd
 * service (docs/operations.md). The unit and the config logic live in src/service; this file
 * is flags only (handlers import their modules, keeping start-up fast).
 */
import type { Argv, CommandModule } from 'yargs';

interface ServiceArgs {
  config?: string;
  'as-shipped'?: boolean;
  now?: boolean;
  json?: boolean;
  file?: string;
}

const DEFAULT_CONFIG = '/etc/ghost-alps/agent.yaml';

const EXAMPLES = `Examples:
  # the unit this installation would install (ExecStart = this node + this main.js)
  ghost-alps service print-unit > /tmp/ghost-alps.service && systemd-analyze verify /tmp/ghost-alps.service
  # install, enable and start it (root, systemd host); writes an example config if none exists
  ghost-alps service install --now
  # check a config file: exit 3 naming each bad key and its line
  ghost-alps service check-config /etc/ghost-alps/agent.yaml
  # stop, disable and remove the unit (the config stays)
  ghost-alps service uninstall`;

const printUnit: CommandModule<object, ServiceArgs> = {
  command: 'print-unit',
  describe: 'print the systemd unit (ExecStart pointing at this installation)',
  builder: (y) =>
    y
      .option('config', { type: 'string', default: DEFAULT_CONFIG, describe: 'config file the unit starts the agent with' })
      .option('as-shipped', { type: 'boolean', default: false, describe: 'print the file exactly as shipped in deploy/systemd/' }) as unknown as Argv<ServiceArgs>,
  handler: async (a) => {
    const { unitText } = await import('../../service/systemd.js');
    process.stdout.write(unitText({ ...(a.config ? { config: a.config } : {}), asShipped: Boolean(a['as-shipped']) }));
  },
};

const install: CommandModule<object, ServiceArgs> = {
  command: 'install',
  describe: 'install and enable the unit on a systemd host (root); refuses elsewhere (exit 4)',
  builder: (y) =>
    y
      .option('config', { type: 'string', default: DEFAULT_CONFIG, describe: 'config file (an example is written there if it does not exist)' })
      .option('now', { type: 'boolean', default: false, describe: 'also start it' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<ServiceArgs>,
  handler: async (a) => {
    const { installUnit } = await import('../../service/systemd.js');
    const r = installUnit({ ...(a.config ? { config: a.config } : {}), now: Boolean(a.now) });
    if (a.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      process.stdout.write(`installed ${r.unitPath}${r.wroteConfig ? `; wrote an example config to ${r.configPath}` : `; config ${r.configPath}`}\n`);
      process.stdout.write(`ran: ${r.commands.join('; ')}\n${a.now ? '' : 'start it with: systemctl start ghost-alps\n'}`);
    }
  },
};

const uninstall: CommandModule<object, ServiceArgs> = {
  command: 'uninstall',
  describe: 'stop, disable and remove the unit (the config file stays)',
  handler: async () => {
    const { uninstallUnit } = await import('../../service/systemd.js');
    const r = uninstallUnit();
    process.stdout.write(`removed ${r.unitPath}; ran: ${r.commands.join('; ')}\n`);
  },
};

const checkConfig: CommandModule<object, ServiceArgs> = {
  command: 'check-config [file]',
  describe: 'validate an agent config file (exit 3 naming each bad key and its line)',
  builder: (y) => y.positional('file', { type: 'string', default: DEFAULT_CONFIG, describe: 'YAML (or JSON) config' }).option('json', { type: 'boolean', default: false }) as unknown as Argv<ServiceArgs>,
  handler: async (a) => {
    const { loadConfig } = await import('../../service/config.js');
    const c = loadConfig(a.file ?? DEFAULT_CONFIG);
    process.stdout.write(a.json ? JSON.stringify(c) + '\n' : `${a.file}: ok\n`);
  },
};

export const serviceCommand: CommandModule<object, ServiceArgs> = {
  command: 'service <command>',
  describe: 'run the agent as a systemd service: print-unit, install, uninstall, check-config',
  builder: (y) => y.command(printUnit).command(install).command(uninstall).command(checkConfig).demandCommand(1).epilog(EXAMPLES) as unknown as Argv<ServiceArgs>,
  handler: () => undefined,
};
