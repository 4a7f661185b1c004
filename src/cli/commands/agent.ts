/**
 * `ghost-alps agent --ghost|--scx …`: enforce an ALPS policy on this host, either delegated (a
 * ghOSt enclave scheduled through the ghOSt ABI) or in-kernel (the sched_ext BPF scheduler).
 * One exported runner per backend (`runGhostBackend` here, `runScxBackend` in src/cli/agent-scx.ts);
 * `handler` only picks one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode, InputError } from '../../core/errors.js';
import { POLICY_LIMITS, validatePolicy, type Policy, type PolicyLearner } from '../../core/policy.js';
import type { AgentStats } from '../../agent/ghost/agent.js';
import { msToNs } from '../../core/time.js';
import { AGENT_POLICY_KINDS, parsePolicyKind } from '../../agent/ghost/ordering.js';
import { DEFAULT_REGISTRY_DIR } from '../../workload/funcs.js';
import { isPermissionError, UsageError } from '../errors.js';
import { intFlag, LIMITS, numFlag } from '../flags.js';
import type { CliCommand } from '../program.js';

/** ghostfs mount point (GHOSTFS_ROOT of src/agent/ghost/host-setup, which loads the addon). */
const GHOSTFS_ROOT = '/sys/fs/ghost';

export interface GhostAgentArgs {
  enclave?: number;
  create?: boolean;
  cpus?: string;
  'global-cpu'?: number;
  policy: string;
  learn: boolean;
  'policy-file'?: string;
  abi?: number;
  'runnable-timeout-ms': number;
  'slice-ms': number;
  registry: string;
  'cgroup-map'?: string;
  'destroy-on-exit': boolean;
  ghostfs: string;
  json: boolean;
  'idle-sleep-us'?: number;
  'comm-funcs'?: boolean;
  telemetry?: number;
  'policy-log'?: string;
  /** Where the ghOSt ABI comes from: a ghOSt kernel, or the sched_ext scheduler ghost.bpf.c. */
  backend?: string;
}

interface AgentArgs extends GhostAgentArgs {
  ghost?: boolean;
  scx?: boolean;
  config?: string;
  metrics?: string;
}

const EXAMPLES = `Examples (in-kernel, on a sched_ext kernel >= 6.12, as root; try it in the VM: ghost-alps vm run -- ...):
  ghost-alps agent --scx --learn --json
      load the ALPS sched_ext scheduler and the BPF profiler, learn a policy every 5 s from the
      functions launched with \`ghost-alps exec --func NAME -- CMD\`; Ctrl-C detaches
  ghost-alps agent --scx --learn --telemetry 8089
      the same, publishing on ws://127.0.0.1:8089: watch with \`ghost-alps repl --connect ws://127.0.0.1:8089\`
  ghost-alps agent --scx; echo "exit $?"
      on a kernel without sched_ext this prints why and exits 4

Examples (delegated, on a ghOSt kernel, as root):
  ghost-alps agent --ghost --create --cpus 0-7 --policy alps --learn --destroy-on-exit
      create an enclave on CPUs 0-7, schedule it with ALPS and keep learning from its invocations
  ghost-alps agent --ghost --enclave 1 --policy cfs --json
      take over enclave 1 (e.g. after an agent upgrade) with the ghOSt-CFS baseline
  ghost-alps agent --ghost --create --cpus 0-3; echo "exit $?"
      on a host without ghOSt (like CI) this prints why and exits 4 (5: no CAP_SYS_NICE)

Functions are tagged by \`ghost-alps exec --func NAME -- CMD\` (launcher registry) or --cgroup-map.`;

/** A CPU list such as `0-3,6`; ids are bounded before any range is expanded. */
export function parseCpuList(text: string, flag: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,10})(?:-(\d{1,10}))?\s*$/.exec(part);
    if (!m) throw new InputError(flag, `'${part.slice(0, 40)}' is not a CPU or CPU range (e.g. 0-3,6)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi > LIMITS.maxCpuId) throw new InputError(flag, `CPU ${hi} is beyond the largest CPU id Linux supports (${LIMITS.maxCpuId})`);
    if (hi < lo) throw new InputError(flag, `range ${part} is backwards`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

function readPolicy(path: string): Policy {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if (isPermissionError(e)) throw e; // exit 5, not "bad input"
    throw new InputError(`--policy-file ${path}`, (e as Error).message);
  }
  // The one policy check every consumer runs (ranks, slices, funcIds, generation in range).
  validatePolicy(v, POLICY_LIMITS, `--policy-file ${path}`);
  return v;
}

/** Options of the ghOSt backend (also usable by a wrapper command). */
export function ghostAgentOptions<T>(y: Argv<T>): Argv<T & GhostAgentArgs> {
  return y
    .option('enclave', { type: 'number', describe: 'attach to /sys/fs/ghost/enclave_ID (agent upgrade / takeover)' })
    .option('create', { type: 'boolean', describe: 'create a new enclave on --cpus (default when --enclave is absent)' })
    .option('cpus', { type: 'string', describe: 'CPU list of a created enclave, e.g. 0-7 (one of them spins as the global agent)' })
    .option('global-cpu', { type: 'number', describe: 'CPU of the spinning global agent (default: the first enclave CPU)' })
    .option('policy', { type: 'string', default: 'alps', choices: AGENT_POLICY_KINDS as string[], describe: 'alps, or a baseline: fifo / cfs (ghOSt-CFS)' })
    .option('learn', { type: 'boolean', default: false, describe: 'run the ALPS learner on the agent\'s own invocation records and install each new policy live' })
    .option('policy-file', { type: 'string', describe: 'initial Policy JSON (e.g. from `ghost-alps learn --json`)' })
    .option('abi', { type: 'number', describe: 'ghOSt ABI (84, 90, 91; default: newest the kernel offers)' })
    .option('runnable-timeout-ms', { type: 'number', describe: 'watchdog: if a runnable task waits this long the kernel ejects the scheduler and returns every task to the default class (--ghost: 1..3600000, default 2000; --scx: 100..30000, default 0 = the kernel maximum, 30 s)' })
    .option('slice-ms', { type: 'number', default: 3, describe: 'default slice for functions without a learned one (and for --policy cfs)' })
    .option('registry', { type: 'string', default: DEFAULT_REGISTRY_DIR, describe: 'launcher registry written by `ghost-alps exec`' })
    .option('cgroup-map', { type: 'string', describe: 'JSON file {"<cgroup path prefix>": "<function name>"} for container sandboxes' })
    .option('destroy-on-exit', { type: 'boolean', default: false, describe: 'destroy a created enclave when the agent stops (tasks return to CFS)' })
    .option('ghostfs', { type: 'string', default: GHOSTFS_ROOT, hidden: true })
    .option('backend', { type: 'string', default: 'ghost', choices: ['ghost', 'scx'], describe: '--ghost: the ghOSt ABI from a ghOSt kernel (ghost), or from the sched_ext scheduler ghost.bpf.c on a stock kernel (scx; docs/ghost.md)' })
    .option('idle-sleep-us', { type: 'number', default: 0, describe: 'the global agent sleeps up to N µs when a pass has nothing to do, and its CPU runs tasks meanwhile (0: it spins and owns its CPU, ghOSt\'s centralized model)' })
    .option('comm-funcs', { type: 'boolean', default: false, describe: 'a task named "alps-f<ID>" (alps-invoke --sched-ext) is an invocation of function ID' })
    .option('json', { type: 'boolean', default: false, describe: 'print agent statistics as JSON lines' }) as unknown as Argv<T & GhostAgentArgs>;
}

/** `--cgroup-map`: an object of cgroup path prefix → function name, copied without a prototype. */
function cgroupMapOf(v: unknown, path: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`--cgroup-map ${path}`, 'expected a JSON object {"<cgroup path prefix>": "<function name>"}');
  const out = Object.create(null) as Record<string, string>;
  for (const [k, name] of Object.entries(v)) {
    if (typeof name !== 'string' || name === '') throw new InputError(`--cgroup-map ${path}`, `the value of ${JSON.stringify(k).slice(0, 60)} must be a function name`);
    out[k] = name;
  }
  return out;
}

/** Bounds of the ghOSt backend's number flags. */
function checkGhostNumbers(a: GhostAgentArgs): void {
  numFlag('--slice-ms', a['slice-ms'], 0, 3_600_000);
  // 0 used to mean "watchdog off": an agent that stops making progress was then never ejected
  // and `agent` never returned. The watchdog is what bounds a stuck agent, so it stays on.
  const t = a['runnable-timeout-ms'];
  if (t === 0) throw new InputError('--runnable-timeout-ms', 'must be in 1..3600000 for --ghost: 0 would turn the watchdog off, and a stuck agent would then never be ejected nor return (default 2000)');
  intFlag('--runnable-timeout-ms', t, 1, 3_600_000);
  if (a.enclave !== undefined) intFlag('--enclave', a.enclave, 0, 1_000_000);
  if (a['global-cpu'] !== undefined) intFlag('--global-cpu', a['global-cpu'], 0, LIMITS.maxCpuId);
  if (a.abi !== undefined) intFlag('--abi', a.abi, 1, 1000);
  intFlag('--idle-sleep-us', a['idle-sleep-us'] ?? 0, 0, 1_000_000);
}

/** Runs the ghOSt backend until SIGINT/SIGTERM or the agent stops; returns the exit code. */
/** What `agent --config` (src/service) observes of the ghOSt backend; all optional. */
export interface GhostBackendHooks {
  learner?: PolicyLearner;
  onReady?(info: { enclaveId: number; abi: number; cpus: number[] }): void;
  onStats?(stats: AgentStats): void;
  onPolicy?(p: Policy): void;
  onStop?(stop: () => void): void;
}

export async function runGhostBackend(a: GhostAgentArgs, hooks: GhostBackendHooks = {}): Promise<number> {
  // Malformed values are reported first (exit 3), wherever the command runs; then, with no ghOSt
  // kernel, that is the answer (exit 4) before what only matters on one (which enclave, how many CPUs).
  const policy = parsePolicyKind(a.policy);
  if (a.enclave !== undefined && a.create) throw new InputError('--enclave/--create', 'give one of them, not both');
  if (a.enclave !== undefined && (!Number.isInteger(a.enclave) || a.enclave < 0)) throw new InputError('--enclave', `'${a.enclave}' is not an enclave id`);
  const cpus = a.cpus ? parseCpuList(a.cpus, '--cpus') : [];
  checkGhostNumbers(a);
  const scx = a.backend === 'scx' ? (await import('../../agent/ghost/scx-backend.js')).requireScxGhost() : undefined;
  if (!scx && !existsSync(join(a.ghostfs, 'version'))) throw (await import('../../agent/ghost/host-setup.js')).noGhostKernel(a.ghostfs);
  const create = a.enclave === undefined;
  if (create && !a.cpus) throw new InputError('--cpus', 'required when creating an enclave (e.g. --cpus 0-7)');
  if (create && cpus.length < 2) throw new InputError('--cpus', 'the centralized agent needs at least 2 CPUs (one spins)');
  let cgroupMap: Record<string, string> = {};
  if (a['cgroup-map']) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(a['cgroup-map'], 'utf8'));
    } catch (e) {
      if (isPermissionError(e)) throw e;
      throw new InputError(`--cgroup-map ${a['cgroup-map']}`, (e as Error).message);
    }
    cgroupMap = cgroupMapOf(parsed, a['cgroup-map']);
  }
  const initialPolicy = a['policy-file'] ? readPolicy(a['policy-file']) : undefined;
  const [{ createLearner }, { startHostAgent }, { startGhostTelemetry }] = await Promise.all([
    import('../../learner/index.js'),
    import('../../agent/ghost/host.js'),
    import('../../agent/ghost/telemetry.js'),
  ]);
  const idleSleepUs = a['idle-sleep-us'] ?? 0;
  // A spinning global agent owns its CPU; a sleeping one shares it with the tasks.
  const taskCpus = Math.max(1, idleSleepUs > 0 ? cpus.length : cpus.length - 1);
  const base = a.learn ? (hooks.learner ?? createLearner({ cpus: taskCpus })) : undefined;
  const tel =
    a.telemetry !== undefined
      ? await startGhostTelemetry({ port: a.telemetry, policyKind: policy, cpus: taskCpus, ...(base ? { learner: base } : {}) })
      : undefined;
  if (tel) process.stderr.write(`ghost-alps agent: telemetry on ws://127.0.0.1:${tel.port}${tel.tokenFile ? ` (control token in ${tel.tokenFile})` : ''}\n`);
  if (tel && initialPolicy) tel.policy(initialPolicy, Number(process.hrtime.bigint()));
  // The feed is up before the preflight so a watcher sees the agent from its first pass; any
  // failure from here on closes it, or the open socket would keep the process from exiting.
  try {
    const learner = tel?.learner ?? base;
    const handle = startHostAgent({
      ...(a.enclave !== undefined ? { enclave: a.enclave } : {}),
      ...(a.abi !== undefined ? { abi: a.abi } : {}),
      ...(a['global-cpu'] !== undefined ? { globalCpu: a['global-cpu'] } : {}),
      ...(initialPolicy ? { initialPolicy } : {}),
      ...(learner ? { learner } : {}),
      cpus,
      policy,
      defaultSliceNs: msToNs(a['slice-ms']),
      runnableTimeoutMs: a['runnable-timeout-ms'],
      registryDir: a.registry,
      cgroupMap,
      destroyOnExit: a['destroy-on-exit'],
      root: a.ghostfs,
      ...(idleSleepUs > 0 ? { idleSleepUs } : {}),
      ...(a['comm-funcs'] ? { commFuncs: true } : {}),
      ...(scx ? { scx } : {}),
      onStats: (m) => {
        tel?.onStats(m.stats);
        hooks.onStats?.(m.stats);
        if (a.json) process.stdout.write(JSON.stringify({ generation: m.generation, ...m.stats, ...(m.loop ? { loop: m.loop } : {}) }) + '\n');
      },
      onPolicy: (p) => (hooks.onPolicy ? hooks.onPolicy(p) : process.stderr.write(`ghost-alps agent: policy generation ${p.generation} (${p.entries.length} functions)\n`)),
    });
    const ready = await handle.ready;
    process.stderr.write(
      `ghost-alps agent: ${policy} scheduling enclave ${ready.enclaveId} (ABI ${ready.abi}, CPUs ${ready.cpus.join(',')}, global agent on ${ready.globalCpu})\n`,
    );
    hooks.onReady?.(ready);
    const stop = (): void => handle.stop();
    hooks.onStop?.(stop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const reason = await handle.done;
    process.stderr.write(`ghost-alps agent: ${reason}\n`);
    return reason === 'stopped' ? ExitCode.ok : ExitCode.failure;
  } finally {
    await tel?.close();
  }
}

/** Exactly one backend. */
function checkBackend(argv: AgentArgs): void {
  if (argv.ghost && argv.scx) throw new UsageError('--ghost and --scx cannot be used together: choose one backend');
  if (!argv.ghost && !argv.scx) throw new UsageError('agent needs a backend: --ghost (delegated, ghOSt kernel) or --scx (in-kernel, sched_ext)');
  if (argv.telemetry !== undefined) intFlag('--telemetry', argv.telemetry, 0, 65535);
}

export const agentCommand: CliCommand<AgentArgs> = {
  command: 'agent',
  describe: 'enforce ALPS on this host: in-kernel (sched_ext, --scx) or delegated (ghOSt, --ghost)',
  builder: (y) =>
    ghostAgentOptions(y.option('ghost', { type: 'boolean', describe: 'schedule a ghOSt enclave through the ghOSt ABI (84/90/91)' }))
      .option('scx', { type: 'boolean', describe: 'enforce ALPS in the kernel with the sched_ext BPF scheduler + BPF profiler (root, sched_ext kernel; docs/scx.md)' })
      .option('telemetry', { type: 'number', describe: 'publish policy generations, utilisation and the backend\'s counters (--scx: scheduler/profiler; --ghost: decision and failed-transaction rates) on ws://127.0.0.1:PORT, and accept control operations from `ghost-alps repl --connect` (docs/telemetry.md)' })
      .option('policy-log', { type: 'string', describe: '--scx: append every installed policy generation to FILE as one JSON line (ranks, slices, E[CPU]: what the learner decided, when)' })
      .option('config', { type: 'string', describe: 'run as a service from a YAML config file (the systemd unit uses /etc/ghost-alps/agent.yaml); flags given here override it; SIGHUP re-reads it (docs/operations.md)' })
      .option('metrics', { type: 'string', describe: 'serve Prometheus metrics on HOST:PORT, e.g. 127.0.0.1:9464 (off unless set; docs/operations.md)' })
      .epilog(EXAMPLES) as unknown as Argv<AgentArgs>,
  check: (argv) => {
    // Service mode: the backend and its values may come from the config file (src/service checks them).
    if (argv.config !== undefined || argv.metrics !== undefined) return;
    checkBackend(argv);
    argv['runnable-timeout-ms'] ??= argv.scx ? 0 : 2000;
    if (argv.ghost) {
      checkGhostNumbers(argv);
      if (argv.cpus) parseCpuList(argv.cpus, '--cpus');
    }
  },
  handler: async (argv) => {
    if (argv.config !== undefined || argv.metrics !== undefined) {
      // Service mode (config file, metrics, logs, sd_notify, SIGHUP reload): src/service.
      const svc = await import('../../service/run.js');
      const { ghostArgsFromConfig } = await import('../../service/ghost.js');
      const raw = argv as unknown as Record<string, unknown>;
      process.exitCode = await svc.runAgentService(raw, process.argv.slice(2), {
        runGhost: (cfg, hooks) => runGhostBackend(ghostArgsFromConfig(cfg, raw) as unknown as GhostAgentArgs, hooks),
      });
      return;
    }
    checkBackend(argv);
    // The ghOSt watchdog is cheap to trip and recover from; sched_ext's ejects the whole
    // scheduler, so by default it gets the kernel's own (longest) bound.
    argv['runnable-timeout-ms'] ??= argv.scx ? 0 : 2000;
    if (argv.scx) {
      const { runScxBackend } = await import('../agent-scx.js');
      process.exitCode = await runScxBackend(argv);
      return;
    }
    // PermissionError (no CAP_SYS_NICE) carries code EPERM: the CLI reports it with exit 5.
    process.exitCode = await runGhostBackend(argv);
  },
};
