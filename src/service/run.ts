/**
 * `ghost-alps agent --config FILE` / `--metrics HOST:PORT`: the agent as a service.
 *
 * Around the backend's own runner it adds: the config file (flags override it), structured
 * logs, Prometheus metrics, sd_notify readiness, and signals —
 *   SIGHUP   re-read the config; learner parameters and telemetry/metrics/log changes apply
 *            live and the learner runs at once, so the change shows as the next policy
 *            generation; the scheduler stays attached. Keys that need a restart are logged.
 *   SIGTERM / SIGINT  detach (every task returns to the kernel's scheduler), exit 0.
 * The sched_ext backend is driven directly (runScxAgent); the ghOSt backend through
 * runGhostBackend with hooks (metrics and logs of its statistics and policies).
 */
import { readFileSync } from 'node:fs';
import { cpus as hostCpus } from 'node:os';
import { ExitCode, InputError, UnsupportedError } from '../core/errors.js';
import { validatePolicy, type LearnerParams, type Policy, type PolicyLearner } from '../core/policy.js';
import { createLearner, defaultLearnerParams } from '../learner/index.js';
import { funcIdOfName } from '../workload/funcs.js';
import { type AgentConfig, ConfigError, DEFAULT_CONFIG_PATH, explicitFlags, loadConfig, mergeFlags, parseListen } from './config.js';
import { apiPodSource, DEFAULT_FUNCTION_KEY, filePodSource, resolvePodFunctions, type PodSource } from './k8s.js';
import { SwitchLearner, TimedLearner } from './learner-wrap.js';
import { createLogger, type Logger } from './logging.js';
import { AgentMetrics, serveMetrics, type MetricsServer } from './metrics.js';
import { createNotifier, type Notifier } from './sd-notify.js';
import type { ScxAgentControl, ScxAgentOptions, ScxAgentState } from '../agent/scx/agent.js';

/** The learner parameters a config sets (absent keys: the mode's defaults). */
export function learnerPatch(c: AgentConfig, cpus = hostCpus().length): Partial<LearnerParams> {
  const l = c.learner ?? {};
  const d = defaultLearnerParams(l.mode ?? 'paper');
  return {
    mode: d.mode,
    alpha: l.alpha ?? d.alpha,
    beta: l.beta ?? d.beta,
    gamma: l.gamma ?? d.gamma,
    theta: l.theta ?? d.theta,
    model: l.model ?? d.model,
    ioAware: l.ioAware ?? d.ioAware,
    maxRecords: l.maxRecords ?? d.maxRecords,
    windowNs: (l.windowMs ?? d.windowNs / 1e6) * 1e6,
    cpus: l.cpus ?? cpus,
    seed: l.seed ?? d.seed,
  };
}

/** Number of CPUs in a list such as `0-3,6` (the schema has checked its shape). */
export function cpuCount(list: string): number {
  return list.split(',').reduce((n, part) => {
    const [lo, hi] = part.trim().split('-').map(Number);
    return n + (hi === undefined ? 1 : Math.max(0, hi - lo! + 1));
  }, 0);
}

/** Config keys a reload can apply; any other change waits for a restart. */
const LIVE_KEYS = new Set(['learner', 'telemetry', 'metrics', 'log', 'json']);

/** Top-level keys whose value differs between two configs. */
export function changedKeys(a: AgentConfig, b: AgentConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k])).sort();
}

/** cgroup dir → function name from the config (inline map, then the map file). */
export function configCgroups(c: AgentConfig): Map<string, string> {
  const out = new Map(Object.entries(c.functions?.cgroups ?? {}));
  const f = c.functions?.cgroupMapFile;
  if (f) {
    let m: unknown;
    try {
      m = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new InputError(`cgroup map ${f}`, (e as Error).message);
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new InputError(`cgroup map ${f}`, 'expected {"<cgroup directory>": "<function name>"}');
    for (const [dir, name] of Object.entries(m as Record<string, unknown>)) {
      if (typeof name !== 'string' || name.length === 0) throw new InputError(`cgroup map ${f}: ${dir}`, 'the function name must be a non-empty string');
      out.set(dir, name);
    }
  }
  return out;
}

function readInitialPolicy(path: string): Policy {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`policy file ${path}`, (e as Error).message);
  }
  validatePolicy(v, undefined, `policy file ${path}`);
  return v;
}

/** Seams: the backend runner and the kernel state (tests drive the service without a kernel). */
export interface ServiceDeps {
  runScx: (o: ScxAgentOptions) => Promise<string>;
  scxState: () => string | undefined;
  startScxTelemetry: typeof import('../agent/scx/telemetry.js').startScxTelemetry;
  runGhost?: (cfg: AgentConfig, hooks: GhostHooks) => Promise<number>;
  notifier: Notifier;
  logger: Logger;
  /** Where SIGHUP/SIGTERM/SIGINT come from (process). */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** What the ghOSt backend reports to the service. */
export interface GhostHooks {
  learner?: PolicyLearner;
  onReady(info: { enclaveId: number; abi: number; cpus: number[] }): void;
  onStats(stats: { decisions: number; failures: Record<string, number>; preemptions: number; messages: number; overflows: number; records: number }): void;
  onPolicy(p: Policy): void;
  /** Called with the agent's stop function once it runs. */
  onStop(stop: () => void): void;
}

interface Telemetry {
  port: number;
  learner?: PolicyLearner;
  tokenFile?: string;
  onState(s: ScxAgentState): void;
  policy(p: Policy, atNs: number): void;
  close(): Promise<void>;
}

export class AgentService {
  private cfg: AgentConfig;
  private readonly log: Logger;
  private readonly metrics: AgentMetrics;
  private metricsServer: MetricsServer | undefined;
  private tel: Telemetry | undefined;
  private base: PolicyLearner | undefined;
  private readonly learner: SwitchLearner | undefined;
  private readonly timed: TimedLearner | undefined;
  private control: ScxAgentControl | undefined;
  private readonly names = new Map<number, string>();
  private readonly ctl = new AbortController();
  private ghostStop: (() => void) | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private podTimer: NodeJS.Timeout | undefined;
  private mappedCgroups = new Set<string>();

  constructor(
    private readonly configPath: string | undefined,
    private readonly argv: Record<string, unknown>,
    private readonly given: ReadonlySet<string>,
    private readonly deps: ServiceDeps,
  ) {
    this.cfg = this.readConfig();
    this.log = deps.logger;
    this.log.level = this.cfg.log?.level ?? 'info';
    this.metrics = new AgentMetrics((id) => this.names.get(id), { backend: this.cfg.backend ?? 'unknown' });
    if (this.cfg.learn) {
      // The ghOSt agent's learner models the enclave minus the CPU its global agent spins on.
      const enclave = this.cfg.backend === 'ghost' && this.cfg.ghost?.cpus ? Math.max(1, cpuCount(this.cfg.ghost.cpus) - 1) : undefined;
      this.base = createLearner(learnerPatch(this.cfg, enclave));
      this.learner = new SwitchLearner(this.base);
      this.timed = new TimedLearner(this.learner, (s, p, u) => {
        this.metrics.learnRound(s);
        this.log.debug({ event: 'learner-round', seconds: s, functions: p.entries.length, utilisationPct: Math.round(u * 10) / 10 }, 'learner round');
      });
    }
  }

  private readConfig(): AgentConfig {
    const file = this.configPath ? loadConfig(this.configPath) : {};
    const c = mergeFlags(file, this.argv, this.given);
    if (!c.backend) throw new InputError(this.configPath ? `config ${this.configPath}` : 'agent', 'choose a backend: `backend: scx|ghost` in the config, or --scx / --ghost');
    if (c.metrics !== undefined) parseListen(c.metrics, this.given.has('metrics') ? '--metrics' : `config ${this.configPath}: metrics`);
    for (const n of c.functions?.cgroups ? Object.values(c.functions.cgroups) : []) funcIdOfName(n);
    return c;
  }

  private nameFunctions(names: Iterable<string>): void {
    for (const n of names) this.names.set(funcIdOfName(n), n);
  }

  private async startMetrics(): Promise<void> {
    if (this.cfg.metrics === undefined) return;
    const { host, port } = parseListen(this.cfg.metrics, 'metrics');
    this.metricsServer = await serveMetrics(this.metrics, host, port);
    this.log.info({ event: 'metrics', url: `http://${host.includes(':') ? `[${host}]` : host}:${this.metricsServer.port}/metrics` }, 'serving Prometheus metrics');
  }

  private async startTelemetry(): Promise<void> {
    if (this.cfg.telemetry === undefined) return;
    if (this.cfg.backend !== 'scx') return; // the ghOSt backend starts its own (runGhostBackend)
    const t = await this.deps.startScxTelemetry({ port: this.cfg.telemetry, ...(this.base ? { learner: this.base } : {}) });
    this.tel = t;
    if (t.learner && this.learner) this.learner.switchTo(t.learner);
    this.log.info({ event: 'telemetry', url: `ws://127.0.0.1:${t.port}`, tokenFile: t.tokenFile }, 'telemetry feed up');
  }

  private async stopTelemetry(): Promise<void> {
    const t = this.tel;
    this.tel = undefined;
    if (this.learner && this.base) this.learner.switchTo(this.base);
    await t?.close();
  }

  /** Policy installed (any source): metrics, one log line, telemetry. */
  private onPolicy = (p: Policy): void => {
    this.metrics.policy(p);
    const params = p.params as unknown as Record<string, number>;
    this.log.info(
      { event: 'policy', generation: p.generation, functions: p.entries.length, alpha: params?.alpha, beta: params?.beta, gamma: params?.gamma, theta: params?.theta, windowMs: (params?.windowNs ?? NaN) / 1e6 },
      `policy generation ${p.generation}`,
    );
  };

  /** SIGHUP: re-read the config and apply what can change live. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReload());
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    if (!this.configPath) {
      this.log.warn({ event: 'reload', result: 'skipped' }, 'SIGHUP: no config file to re-read (started without --config)');
      return;
    }
    await this.deps.notifier.notify({ RELOADING: 1, MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n), STATUS: 'reloading the config' }).catch(() => undefined);
    let next: AgentConfig;
    try {
      next = this.readConfig();
    } catch (e) {
      this.metrics.reload(false);
      this.log.error({ event: 'reload', result: 'error', err: (e as Error).message }, 'reload failed: keeping the running config');
      await this.deps.notifier.notify({ READY: 1, STATUS: `reload failed: ${(e as Error).message}` }).catch(() => undefined);
      return;
    }
    const prev = this.cfg;
    const changed = changedKeys(prev, next);
    const needRestart = changed.filter((k) => !LIVE_KEYS.has(k) && !(k === 'functions' && this.cfg.backend === 'scx'));
    const applied: string[] = [];
    try {
      this.cfg = { ...next, ...Object.fromEntries(needRestart.map((k) => [k, (prev as Record<string, unknown>)[k]])) };
      if (changed.includes('log')) {
        this.log.level = next.log?.level ?? 'info';
        applied.push('log');
      }
      if (changed.includes('json')) applied.push('json');
      if (changed.includes('metrics')) {
        await this.metricsServer?.close();
        this.metricsServer = undefined;
        await this.startMetrics();
        applied.push('metrics');
      }
      if (changed.includes('telemetry')) {
        await this.stopTelemetry();
        await this.startTelemetry();
        applied.push('telemetry');
      }
      if (changed.includes('functions') && this.cfg.backend === 'scx') {
        this.nameFunctions(next.functions?.names ?? []);
        this.mapCgroups(configCgroups(next));
        applied.push('functions');
      }
      if (this.learner) {
        const patch = learnerPatch(next, this.learner.params.cpus);
        const prevWindow = this.learner.params.windowNs;
        this.learner.setParams(patch);
        if (patch.windowNs !== prevWindow) this.control?.setWindowNs(patch.windowNs!);
        if (changed.includes('learner')) applied.push('learner');
        // The new parameters become the next generation now, not a window later.
        this.control?.learnNow();
      }
      this.metrics.reload(true);
      this.log.info({ event: 'reload', result: 'ok', changed, applied, needRestart }, `config reloaded${needRestart.length ? `; restart to apply: ${needRestart.join(', ')}` : ''}`);
      await this.deps.notifier.notify({ READY: 1, STATUS: this.status() }).catch(() => undefined);
    } catch (e) {
      this.metrics.reload(false);
      this.log.error({ event: 'reload', result: 'error', err: (e as Error).message, applied }, 'reload failed part way');
      await this.deps.notifier.notify({ READY: 1, STATUS: `reload failed: ${(e as Error).message}` }).catch(() => undefined);
    }
  }

  private status(): string {
    const g = this.learner?.current?.generation;
    return `${this.cfg.backend} scheduler attached${g !== undefined ? `, policy generation ${g}` : ''}${this.metricsServer ? `, metrics on :${this.metricsServer.port}` : ''}`;
  }

  stop(why: string): void {
    if (this.ctl.signal.aborted) return;
    this.log.info({ event: 'stop', signal: why }, `${why}: detaching`);
    void this.deps.notifier.notify({ STOPPING: 1, STATUS: 'detaching' }).catch(() => undefined);
    this.ctl.abort();
    this.ghostStop?.();
  }

  private mapCgroups(m: Map<string, string>): void {
    if (!this.control) return;
    for (const [dir, name] of m) {
      if (this.mappedCgroups.has(`${dir}\0${name}`)) continue;
      const id = funcIdOfName(name);
      try {
        this.control.mapCgroup(dir, id);
        this.mappedCgroups.add(`${dir}\0${name}`);
        this.names.set(id, name);
        this.log.info({ event: 'cgroup-mapped', cgroup: dir, function: name, funcId: id }, 'cgroup mapped to a function');
      } catch (e) {
        this.log.warn({ event: 'cgroup-map-failed', cgroup: dir, function: name, err: (e as Error).message }, 'cgroup not mapped');
      }
    }
  }

  private podSource(): PodSource | undefined {
    const k = this.cfg.functions?.kubernetes;
    if (!k || k.enabled === false) return undefined;
    const pods = k.pods ?? 'api';
    if (pods !== 'api') return filePodSource(pods);
    const node = k.nodeName ?? process.env.NODE_NAME;
    if (!node) throw new InputError('functions.kubernetes.nodeName', 'unset and $NODE_NAME is empty (the DaemonSet sets it from spec.nodeName)');
    return apiPodSource({ nodeName: node });
  }

  private startPodMapping(): void {
    const src = this.podSource();
    if (!src) return;
    const k = this.cfg.functions!.kubernetes!;
    const scan = async (): Promise<void> => {
      try {
        const m = await resolvePodFunctions({ source: src, key: k.key ?? DEFAULT_FUNCTION_KEY, ...(k.cgroupRoot ? { root: k.cgroupRoot } : {}) });
        this.mapCgroups(m);
      } catch (e) {
        this.log.warn({ event: 'pod-scan-failed', source: src.describe, err: (e as Error).message }, 'pod scan failed (retrying)');
      }
    };
    void scan();
    this.podTimer = setInterval(() => void scan(), k.rescanMs ?? 5000);
    this.podTimer.unref();
    this.log.info({ event: 'pod-mapping', source: src.describe, key: k.key ?? DEFAULT_FUNCTION_KEY }, 'mapping pods to functions');
  }

  /** Runs until stopped or the scheduler is ejected; returns the exit code. */
  async run(): Promise<number> {
    const onHup = (): void => void this.reload();
    const onTerm = (): void => this.stop('SIGTERM');
    const onInt = (): void => this.stop('SIGINT');
    this.deps.signals.on('SIGHUP', onHup);
    this.deps.signals.on('SIGTERM', onTerm);
    this.deps.signals.on('SIGINT', onInt);
    try {
      this.nameFunctions([...configCgroups(this.cfg).values(), ...(this.cfg.functions?.names ?? [])]);
      const initialPolicy = this.cfg.policyFile ? readInitialPolicy(this.cfg.policyFile) : undefined;
      await this.startMetrics();
      if (this.cfg.backend === 'ghost') return await this.runGhost();
      await this.startTelemetry();
      const why = await this.runScx(initialPolicy);
      const state = this.deps.scxState() ?? 'unknown';
      this.metrics.schedulerState(state);
      if (why === 'stopped') {
        this.log.info({ event: 'detach', backend: 'scx', state }, 'scheduler detached: every task is back on the kernel scheduler');
        return ExitCode.ok;
      }
      this.metrics.schedulerExit(why);
      this.log.error({ event: 'exit', backend: 'scx', reason: why, state }, 'the scheduler stopped');
      return ExitCode.failure;
    } finally {
      this.deps.signals.off('SIGHUP', onHup);
      this.deps.signals.off('SIGTERM', onTerm);
      this.deps.signals.off('SIGINT', onInt);
      if (this.podTimer) clearInterval(this.podTimer);
      await this.stopTelemetry().catch(() => undefined);
      await this.metricsServer?.close();
      this.deps.notifier.close();
    }
  }

  private async runScx(initialPolicy: Policy | undefined): Promise<string> {
    const c = this.cfg;
    const sliceMs = c.sliceMs ?? 3;
    if (!(sliceMs >= 0.1 && sliceMs <= 1000)) throw new InputError('sliceMs', `must be in 0.1..1000 for the scx backend (got ${sliceMs})`);
    const t = c.runnableTimeoutMs ?? 0;
    if (!(t === 0 || (t >= 100 && t <= 30_000))) throw new InputError('runnableTimeoutMs', `must be 0 (kernel maximum, 30 s) or 100..30000 for the scx backend (got ${t})`);
    const cgroupMap = new Map([...configCgroups(c)].map(([dir, name]) => [dir, funcIdOfName(name)]));
    for (const [dir, name] of configCgroups(c)) this.mappedCgroups.add(`${dir}\0${name}`);
    if (initialPolicy && this.tel) this.tel.policy(initialPolicy, Number(process.hrtime.bigint()));
    return this.deps.runScx({
      ...(this.timed ? { learner: this.timed } : {}),
      ...(initialPolicy ? { initialPolicy } : {}),
      defaultSliceNs: Math.round(sliceMs * 1e6),
      cgroupMap,
      timeoutMs: t === 0 ? 30_000 : t,
      ...(c.scx?.tagsPin !== undefined ? { tagsPin: c.scx.tagsPin } : {}),
      signal: this.ctl.signal,
      onAttached: (pin) => {
        const state = this.deps.scxState() ?? 'unknown';
        this.metrics.schedulerState(state);
        this.log.info({ event: 'attach', backend: 'scx', state, tagsPin: pin || null }, 'ALPS sched_ext scheduler attached');
        void this.deps.notifier.notify({ READY: 1, MAINPID: process.pid, STATUS: this.status() }).catch((e: Error) => this.log.error({ event: 'sd-notify', err: e.message }, 'sd_notify failed'));
      },
      onControl: (ctl) => {
        this.control = ctl;
        this.startPodMapping();
      },
      onPolicy: this.onPolicy,
      onRecords: (recs) => this.metrics.records(recs),
      onState: (s) => {
        this.metrics.scx(s);
        this.metrics.schedulerState(this.deps.scxState() ?? 'unknown');
        this.tel?.onState(s);
        if (this.cfg.json) process.stdout.write(JSON.stringify(s) + '\n');
      },
    });
  }

  private async runGhost(): Promise<number> {
    if (!this.deps.runGhost) throw new InputError('backend', 'ghost is not available in this build');
    if (this.cfg.functions?.kubernetes) this.log.warn({ event: 'pod-mapping', backend: 'ghost' }, 'Kubernetes pod mapping is applied by the scx backend only');
    const code = await this.deps.runGhost(this.cfg, {
      ...(this.timed ? { learner: this.timed } : {}),
      onReady: (r) => {
        this.metrics.schedulerState('attached');
        this.log.info({ event: 'attach', backend: 'ghost', enclave: r.enclaveId, abi: r.abi, cpus: r.cpus }, 'ghOSt agent scheduling the enclave');
        void this.deps.notifier.notify({ READY: 1, MAINPID: process.pid, STATUS: `ghOSt enclave ${r.enclaveId} scheduled` }).catch(() => undefined);
      },
      onStats: (s) => this.metrics.ghost(s, Number(process.hrtime.bigint()) / 1e9),
      onPolicy: this.onPolicy,
      onStop: (stop) => (this.ghostStop = stop),
    });
    this.metrics.schedulerState('detached');
    this.log.info({ event: 'detach', backend: 'ghost', exitCode: code }, 'ghOSt agent stopped');
    return code;
  }
}

/** CLI entry: `agent --config [FILE] [--metrics HOST:PORT] …` (argv as yargs parsed it). */
export async function runAgentService(argv: Record<string, unknown>, rawArgv: readonly string[], extra: Partial<ServiceDeps> = {}): Promise<number> {
  const cfgArg = argv.config;
  // An empty value (e.g. from a wrapper script's unset variable) means the default file.
  const configPath = cfgArg === undefined ? undefined : cfgArg === '' || cfgArg === true ? DEFAULT_CONFIG_PATH : String(cfgArg);
  const given = explicitFlags(rawArgv);
  const logger = extra.logger ?? createLogger();
  const notifier = extra.notifier ?? createNotifier();
  // Children (workloads started by hooks, systemd-notify) must not inherit the socket by accident.
  delete process.env.NOTIFY_SOCKET;
  try {
    const scx = await import('../agent/scx/agent.js');
    const sched = await import('../agent/scx/scheduler.js');
    const tel = await import('../agent/scx/telemetry.js');
    const svc = new AgentService(configPath, argv, given, {
      runScx: scx.runScxAgent,
      scxState: sched.scxState,
      startScxTelemetry: tel.startScxTelemetry,
      notifier,
      logger,
      signals: process,
      ...extra,
    });
    return await svc.run();
  } catch (e) {
    // Logged once, structured (the journal keeps the fields); the CLI does not print it again.
    const code = exitCodeOf(e);
    const err = e as Error & { hint?: string };
    logger.error({ event: 'error', kind: err.name, err: err.message, exitCode: code, ...(e instanceof ConfigError ? { problems: e.problems } : {}) }, 'the agent could not run');
    await notifier.notify({ STATUS: `failed: ${err.message}`, ERRNO: code }).catch(() => undefined);
    return code;
  }
}

/** The README's exit code of an error (0 ok, 1 failure, 3 bad input, 4 unsupported, 5 permission). */
export function exitCodeOf(e: unknown): number {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM' || (e as Error | undefined)?.name === 'PermissionError') return ExitCode.permission;
  if (e instanceof InputError) return ExitCode.badInput;
  if (e instanceof UnsupportedError) return ExitCode.unsupported;
  return ExitCode.failure;
}
