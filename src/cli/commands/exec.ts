/**
 * `ghost-alps exec --func NAME -- CMD…`: run CMD as an invocation of function NAME. The launcher
 * registers its own pid under NAME in the registry (the agent resolves every task to its nearest
 * registered ancestor), moves its main thread into the ghOSt enclave (so the child is forked as a
 * ghOSt task), runs CMD and exits with CMD's status. Without a ghOSt kernel the tag still applies
 * (the registry is read by the agents of every backend) and CMD runs under the default scheduler.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { InputError, UnsupportedError } from '../../core/errors.js';
import { DEFAULT_REGISTRY_DIR, funcIdOfName, registerLaunch, unregisterLaunch } from '../../workload/funcs.js';
import { UsageError } from '../errors.js';
import { intFlag } from '../flags.js';
import type { CliCommand } from '../program.js';

/** ghostfs mount point (GHOSTFS_ROOT of src/agent/ghost/host-setup, which loads the addon). */
const GHOSTFS_ROOT = '/sys/fs/ghost';

interface ExecArgs {
  func: string;
  enclave?: number;
  registry: string;
  ghostfs: string;
  '--'?: (string | number)[];
  cmd?: string[];
  _: (string | number)[];
}

const EXAMPLES = `Examples:
  ghost-alps exec --func resize -- node -e 'let x=0; for (let i=0;i<1e8;i++) x+=i; console.log(x)'
      one "resize" invocation (inside the active ghOSt enclave if there is one)
  ghost-alps exec --func fib --registry /tmp/alps-funcs -- sh -c 'exit 3'; echo "exit $?"
      prints "exit 3": the command's status is passed through`;

/** The enclave an `agent` currently serves: the first enclave_* whose status says `active yes`. */
export function findActiveEnclave(root = GHOSTFS_ROOT): number | undefined {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith('enclave_'));
  } catch {
    return undefined;
  }
  for (const n of names.sort()) {
    try {
      if (/^active yes$/m.test(readFileSync(join(root, n, 'status'), 'utf8'))) return Number(n.slice('enclave_'.length));
    } catch {
      // enclave torn down while we looked
    }
  }
  return undefined;
}

export async function runExec(a: ExecArgs): Promise<number> {
  const cmd = (a['--'] ?? a.cmd ?? []).map(String);
  if (cmd.length === 0) throw new UsageError('exec needs a command after `--` (e.g. ghost-alps exec --func f -- ./handler)');
  if (a.enclave !== undefined) intFlag('--enclave', a.enclave, 0, 1_000_000);
  funcIdOfName(a.func);
  const [{ createClient }, { scxExecArgv }] = await Promise.all([
    import('../../native/ghost.js'),
    // sched_ext backend: tag through the map a running `agent --scx` pinned.
    import('../../agent/scx/launch.js'),
  ]);
  try {
    registerLaunch(process.pid, a.func, a.registry);
  } catch (e) {
    throw new InputError(`--registry ${a.registry}`, `${(e as Error).message} (choose a writable directory, and give the agent the same --registry)`);
  }
  try {
    let enclave = a.enclave;
    if (enclave !== undefined) {
      if (!createClient({ root: a.ghostfs }).present()) {
        throw new UnsupportedError(`--enclave ${enclave}`, `${a.ghostfs}/version does not exist: this is not a ghOSt kernel`);
      }
    } else {
      enclave = findActiveEnclave(a.ghostfs);
    }
    if (enclave !== undefined) {
      const client = createClient({ root: a.ghostfs });
      client.attach(enclave);
      client.enterTask(0); // this (main) thread: the child is forked as a ghOSt task
      client.close();
    }
    return await new Promise<number>((resolve, reject) => {
      // sched_ext backend: with `agent --scx` running, start CMD through alps-exec, which
      // tags itself in the kernel's task storage before exec (children inherit the tag).
      const argv = scxExecArgv(funcIdOfName(a.func), cmd) ?? cmd;
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'inherit' });
      child.on('error', (e) => reject(new InputError(`command ${cmd[0]}`, e.message)));
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }) as Record<string, number>)[signal] ?? 1 : 1)));
    });
  } finally {
    unregisterLaunch(process.pid, a.registry);
  }
}

export const execCommand: CliCommand<ExecArgs> = {
  command: 'exec',
  describe: 'run a command as an invocation of a function (tags it for the ALPS agents)',
  builder: (y) =>
    y
      .option('func', { type: 'string', demandOption: true, describe: 'function name (its funcId is the FNV-1a hash of the name)' })
      .option('enclave', { type: 'number', describe: 'ghOSt enclave to run in (default: the active one, if any)' })
      .option('registry', { type: 'string', default: DEFAULT_REGISTRY_DIR, describe: 'launcher registry directory (the agent reads the same one)' })
      .option('ghostfs', { type: 'string', default: GHOSTFS_ROOT, hidden: true })
      .parserConfiguration({ 'populate--': true })
      .epilog(EXAMPLES) as unknown as Argv<ExecArgs>,
  handler: async (argv) => {
    process.exitCode = await runExec(argv);
  },
};
