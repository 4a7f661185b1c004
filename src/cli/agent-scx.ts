/**
 * CLI glue of the sched_ext backend: `ghost-alps agent --scx [--learn] [--policy-file F]
 * [--slice-ms N] [--runnable-timeout-ms N] [--cgroup-map F] [--json]`. Function names (exec
 * --func, cgroup map) become ids with the same hash the ghOSt backend uses. Kept here so the agent command only
 * needs one branch (`if (argv.scx) return runScxBackend(argv)`).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ExitCode, InputError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import { msToNs } from '../core/time.js';
import { createLearner, warmUpLearner } from '../learner/index.js';
import { runScxAgent } from '../agent/scx/agent.js';
import { startScxTelemetry, type ScxTelemetry } from '../agent/scx/telemetry.js';
import { funcIdOfName } from '../workload/funcs.js';
import { WATCHDOG_MIN_MS } from '../core/alps-rule.js';

export interface ScxBackendArgs {
  learn: boolean;
  'policy-file'?: string;
  'slice-ms': number;
  'runnable-timeout-ms': number;
  json: boolean;
  /** JSON file {"<cgroup-v2 directory>": "<function name>"}: every task of that cgroup is that function. */
  'cgroup-map'?: string;
  /** bpffs path for the tag map ('' = none); default /sys/fs/bpf/ghost-alps/alps_tags. */
  'tags-pin'?: string;
  /** Publish telemetry (and accept control operations) on this 127.0.0.1 port. */
  telemetry?: number;
  /** Append every installed policy generation to this file as one JSON line (an audit trail). */
  'policy-log'?: string;
}

export async function runScxBackend(a: ScxBackendArgs): Promise<number> {
  if (!(a['slice-ms'] >= 0.1 && a['slice-ms'] <= 1000)) throw new InputError('--slice-ms', `must be in 0.1..1000 for --scx (got ${a['slice-ms']})`);
  const t = a['runnable-timeout-ms'];
  if (!(t === 0 || (t >= WATCHDOG_MIN_MS && t <= 30_000))) throw new InputError('--runnable-timeout-ms', `must be 0 (kernel maximum, 30 s) or ${WATCHDOG_MIN_MS}..30000 for --scx (got ${t})`);
  let initialPolicy: Policy | undefined;
  if (a['policy-file']) {
    try {
      initialPolicy = JSON.parse(readFileSync(a['policy-file'], 'utf8')) as Policy;
    } catch (e) {
      throw new InputError(`--policy-file ${a['policy-file']}`, (e as Error).message);
    }
  }
  const policyLog = a['policy-log'];
  if (policyLog !== undefined) {
    try {
      writeFileSync(policyLog, '');
    } catch (e) {
      throw new InputError(`--policy-log ${policyLog}`, (e as Error).message);
    }
  }
  const cgroupMap = new Map<string, number>();
  if (a['cgroup-map']) {
    let m: Record<string, string>;
    try {
      m = JSON.parse(readFileSync(a['cgroup-map'], 'utf8')) as Record<string, string>;
    } catch (e) {
      throw new InputError(`--cgroup-map ${a['cgroup-map']}`, (e as Error).message);
    }
    for (const [dir, name] of Object.entries(m)) cgroupMap.set(dir, funcIdOfName(String(name)));
  }
  // sched_ext schedules every CPU: the learner's SRPT replay runs on as many (the default, 1,
  // would replay a 2-CPU guest's window on one CPU and see waits that never happened).
  const base = a.learn ? createLearner({ cpus: availableParallelism() }) : undefined;
  // Warm the learner's code before attaching (a throwaway learner on synthetic records), so the
  // first rounds after attach do not pay V8's compilation: under the A/B's TCG guest that was
  // most of the agent's CPU in its first windows.
  const warmMs = base ? warmUpLearner(base.params) : 0;
  const tel: ScxTelemetry | undefined =
    a.telemetry !== undefined ? await startScxTelemetry({ port: a.telemetry, ...(base ? { learner: base } : {}) }) : undefined;
  if (tel) process.stderr.write(`ghost-alps agent: telemetry on ws://127.0.0.1:${tel.port}${tel.tokenFile ? ` (control token in ${tel.tokenFile})` : ''}\n`);
  const learner = tel?.learner ?? base;
  if (tel && initialPolicy) tel.policy(initialPolicy, Number(process.hrtime.bigint()));
  const ctl = new AbortController();
  const stop = (): void => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const why = await runScxAgent({
    ...(learner ? { learner } : {}),
    ...(initialPolicy ? { initialPolicy } : {}),
    defaultSliceNs: msToNs(a['slice-ms']),
    cgroupMap,
    timeoutMs: t === 0 ? 30_000 : t,
    ...(a['tags-pin'] !== undefined ? { tagsPin: a['tags-pin'] } : {}),
    signal: ctl.signal,
    ...(policyLog !== undefined ? { onPolicy: (p: Policy) => appendFileSync(policyLog, JSON.stringify(p) + '\n') } : {}),
    onAttached: (pin) =>
      process.stderr.write(
        `ghost-alps agent: ALPS sched_ext scheduler enabled; tag map pinned at ${pin || '(not pinned)'}; tag work with alps-exec --pin <map> --func ID -- CMD${base ? ` (learner warmed up in ${warmMs.toFixed(0)} ms of CPU)` : ''}\n`,
      ),
    onState: (s) => {
      tel?.onState(s);
      if (a.json) process.stdout.write(JSON.stringify(s) + '\n');
    },
  }).finally(() => tel?.close());
  process.stderr.write(`ghost-alps agent: ${why}\n`);
  return why === 'stopped' ? ExitCode.ok : ExitCode.failure;
}
