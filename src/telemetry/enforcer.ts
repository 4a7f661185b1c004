/**
 * Telemetry for a real enforcer (`agent --scx|--ghost --telemetry PORT`): starts the feed and,
 * when the enforcer learns, wraps its learner in a ControlledLearner so operators can steer it
 * (set-params, pause/resume, pin/unpin, snapshot) with the run's token. Backend-specific frames
 * (sched_ext counters, ghOSt decision rates) are published by the caller on `server`.
 */
import { InputError } from '../core/errors.js';
import type { PolicyLearner } from '../core/policy.js';
import { ControlledLearner } from './controlled-learner.js';
import type { LiveLearner } from './live/replay-learner.js';
import type { SourceKind } from './schema.js';
import type { TelemetryServer } from './server.js';
import { startTelemetry } from './start.js';

export interface EnforcerTelemetry {
  server: TelemetryServer;
  /** The learner to drive: the caller's, wrapped for control (absent when it has none). */
  learner?: PolicyLearner;
  port: number;
  tokenFile?: string;
  close(): Promise<void>;
}

export async function startEnforcerTelemetry(o: {
  source: { kind: SourceKind; name: string };
  port: number;
  host?: string;
  token?: string;
  learner?: LiveLearner;
}): Promise<EnforcerTelemetry> {
  if (!(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) throw new InputError('--telemetry', `must be a TCP port 0..65535 (got ${o.port})`);
  const holder: { l?: ControlledLearner } = {};
  const learner = (): ControlledLearner => {
    if (!holder.l) throw new InputError('control', 'the learner is still starting');
    return holder.l;
  };
  const t = await startTelemetry({
    source: o.source,
    port: o.port,
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.token !== undefined ? { token: o.token } : {}),
    // Without a learner there is nothing to steer: control operations answer `unsupported`.
    ...(o.learner
      ? {
          control: {
            setParams: (p) => learner().setParams(p),
            pause: () => learner().pause(),
            resume: () => learner().resume(),
            pin: (id, p) => learner().pin(id, p),
            unpin: (id) => learner().unpin(id),
            snapshot: () => ({ policy: learner().current, params: learner().params, learning: learner().learning }),
          },
        }
      : {}),
  });
  if (o.learner) holder.l = new ControlledLearner(o.learner, t.server);
  return {
    server: t.server,
    ...(holder.l ? { learner: holder.l } : {}),
    port: t.server.port,
    ...(t.tokenFile ? { tokenFile: t.tokenFile } : {}),
    close: () => t.close(),
  };
}
