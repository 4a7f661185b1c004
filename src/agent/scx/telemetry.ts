/**
 * Telemetry for the in-kernel backend (`agent --scx --telemetry PORT`): the same versioned feed
 * and control operations as the simulator's live session (docs/telemetry.md), published by the
 * real enforcer. Policy generations come from the ControlledLearner wrapping the ALPS learner;
 * each learning window adds one `bpf` frame (sched_ext state + scheduler and profiler counters)
 * and one `util` frame (measured CPU utilisation, completions, throughput).
 */
import { cpus as hostCpus } from 'node:os';
import type { Policy, PolicyLearner } from '../../core/policy.js';
import type { Ns } from '../../core/time.js';
import { startEnforcerTelemetry } from '../../telemetry/enforcer.js';
import type { LiveLearner } from '../../telemetry/live/replay-learner.js';
import type { BpfMsg, UtilMsg } from '../../telemetry/schema.js';
import type { ScxAgentState } from './agent.js';
import { scxState } from './scheduler.js';

type BpfFrame = Omit<BpfMsg, 'v' | 'type'>;
type UtilFrame = Omit<UtilMsg, 'v' | 'type'>;

/** Where the previous window ended, to turn cumulative counts into rates. */
export interface WindowMark {
  atNs: Ns;
  completed: number;
}

/** The frames one learning window publishes (pure: tested without a kernel). */
export function scxFrames(s: ScxAgentState, atNs: Ns, prev: WindowMark | undefined, cpus: number, kernelState: string): { bpf: BpfFrame; util: UtilFrame } {
  const dtS = prev ? (atNs - prev.atNs) / 1e9 : 0;
  const done = s.records - (prev?.completed ?? s.records);
  return {
    bpf: {
      atNs,
      state: kernelState,
      scheduler: 'alps',
      counters: { generation: s.generation, functions: s.functions, ...s.scheduler, ...prefixed('profiler_', s.profiler) },
    },
    util: {
      atNs,
      cpus,
      utilisationPct: s.utilisationPct,
      throughputPerS: dtS > 0 ? done / dtS : 0,
      completed: s.records,
    },
  };
}

function prefixed(prefix: string, o: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number') out[prefix + k] = v;
  return out;
}

export interface ScxTelemetry {
  /** The learner to drive: the caller's, wrapped so operators can steer it (absent without one). */
  learner?: PolicyLearner;
  port: number;
  tokenFile?: string;
  /** Publish a policy installed without the learner (e.g. --policy-file). */
  policy(p: Policy, atNs: Ns): void;
  /** Publish one learning window's state. */
  onState(s: ScxAgentState): void;
  close(): Promise<void>;
}

export async function startScxTelemetry(o: { port: number; host?: string; token?: string; learner?: LiveLearner }): Promise<ScxTelemetry> {
  const t = await startEnforcerTelemetry({ source: { kind: 'scx', name: 'alps-scx' }, ...o });
  const cpus = hostCpus().length;
  let mark: WindowMark | undefined;
  return {
    ...(t.learner ? { learner: t.learner } : {}),
    port: t.port,
    ...(t.tokenFile ? { tokenFile: t.tokenFile } : {}),
    policy: (p, atNs) => t.server.policy(p, atNs),
    onState: (s) => {
      const atNs = Number(process.hrtime.bigint());
      const f = scxFrames(s, atNs, mark, cpus, scxState() ?? 'unknown');
      t.server.bpf(f.bpf);
      t.server.util(f.util);
      mark = { atNs, completed: s.records };
    },
    close: () => t.close(),
  };
}
