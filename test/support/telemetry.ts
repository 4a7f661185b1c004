import { AlpsLearner } from '../../src/learner/index.js';
import { LiveSession } from '../../src/telemetry/live/session.js';
import type { TelemetryPublisher } from '../../src/telemetry/publisher.js';
import { simulate } from '../../src/sim/index.js';
import { loadWorkload } from '../../src/workload/source.js';

/** A small live session of the real simulator and the real ALPS learner. */
export function smallSession(opts: { invocations?: number; seed?: number; publisher?: TelemetryPublisher; scheduler?: string } = {}): LiveSession {
  const bundle = loadWorkload('huawei', { invocations: opts.invocations ?? 1200, cpus: 8, load: 0.9, seed: opts.seed ?? 1 });
  return new LiveSession({
    workload: bundle.workload,
    cpus: 8,
    scheduler: opts.scheduler ?? 'alps',
    seed: opts.seed ?? 1,
    simulate,
    learnerFactory: (p) => new AlpsLearner(p),
    learning: (opts.scheduler ?? 'alps').startsWith('alps'),
    ...(opts.publisher ? { publisher: opts.publisher } : {}),
  });
}

/** Step until the session has installed `n` generations (or the workload ends). */
export function stepToGeneration(s: LiveSession, n: number): void {
  while ((s.policy?.generation ?? 0) < n && !s.done) s.step();
}
