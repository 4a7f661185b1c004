/**
 * Telemetry for the delegated backend (`agent --ghost --telemetry PORT`): the same versioned feed
 * and control operations as `agent --scx` (src/telemetry/enforcer.ts). The worker's periodic
 * statistics become `rates` frames (decisions and failed transactions per second) and `util`
 * frames (completions, throughput); policy generations come from the wrapped learner.
 */
import type { Policy, PolicyLearner } from '../../core/policy.js';
import type { Ns } from '../../core/time.js';
import { startEnforcerTelemetry } from '../../telemetry/enforcer.js';
import type { LiveLearner } from '../../telemetry/live/replay-learner.js';
import type { TelemetryPublisher } from '../../telemetry/publisher.js';
import { RateSampler } from '../../telemetry/start.js';
import type { AgentStats } from './agent.js';

/**
 * Publishes each statistics sample of a running agent: rates since the previous sample and a
 * util frame. Stateful (it remembers the previous sample); `publish` is what the worker's stats
 * messages are fed to.
 */
export class GhostStatsPublisher {
  private readonly rates: RateSampler;
  private last: { atNs: Ns; records: number } | undefined;

  constructor(
    private readonly pub: TelemetryPublisher,
    private readonly cpus: number,
  ) {
    this.rates = new RateSampler(pub);
  }

  publish(atNs: Ns, stats: Readonly<AgentStats>): void {
    this.rates.sample(atNs, stats);
    const prev = this.last;
    const dtS = prev && atNs > prev.atNs ? (atNs - prev.atNs) / 1e9 : 0;
    this.pub.util({ atNs, cpus: this.cpus, throughputPerS: dtS > 0 ? (stats.records - prev!.records) / dtS : 0, completed: stats.records });
    this.last = { atNs, records: stats.records };
  }
}

export interface GhostTelemetry {
  learner?: PolicyLearner;
  port: number;
  tokenFile?: string;
  policy(p: Policy, atNs: Ns): void;
  onStats(stats: Readonly<AgentStats>): void;
  close(): Promise<void>;
}

export async function startGhostTelemetry(o: { port: number; policyKind: string; cpus: number; learner?: LiveLearner }): Promise<GhostTelemetry> {
  const t = await startEnforcerTelemetry({
    source: { kind: 'agent', name: o.policyKind === 'alps' ? 'alps-ghost' : `ghost-${o.policyKind}` },
    port: o.port,
    ...(o.learner ? { learner: o.learner } : {}),
  });
  const stats = new GhostStatsPublisher(t.server, o.cpus);
  return {
    ...(t.learner ? { learner: t.learner } : {}),
    port: t.port,
    ...(t.tokenFile ? { tokenFile: t.tokenFile } : {}),
    policy: (p, atNs) => t.server.policy(p, atNs),
    onStats: (s) => stats.publish(Number(process.hrtime.bigint()), s),
    close: () => t.close(),
  };
}
