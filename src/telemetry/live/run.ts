import { InputError } from '../../core/errors.js';
import type { LearnerParams } from '../../core/policy.js';
import { sToNs } from '../../core/time.js';
import { AlpsLearner } from '../../learner/index.js';
import { LEARNING_SCHEDULERS, SCHEDULERS, simulate } from '../../sim/index.js';
import { loadWorkloadSource } from '../../workload/source.js';
import type { TelemetryPublisher } from '../publisher.js';
import { nullPublisher, tee } from '../publisher.js';
import type { TelemetryServer } from '../server.js';
import { startTelemetry } from '../start.js';
import type { LiveLearnerFactory } from './replay-learner.js';
import { LiveSession } from './session.js';

export interface LiveRunOptions {
  /** huawei | azure | io-mix | a trace file (as `simulate --workload`). */
  workload: string;
  cpus: number;
  load: number;
  invocations: number;
  seed: number;
  scheduler: string;
  /** Virtual seconds per step. */
  stepS: number;
  learner?: Partial<LearnerParams>;
  /** Publish on a telemetry socket. */
  listen?: { host: string; port: number; token?: string };
  /** Also publish here (the REPL's own view). */
  publisher?: TelemetryPublisher;
}

export interface LiveRun {
  session: LiveSession;
  description: string;
  server?: TelemetryServer;
  /** Token file written for this run (absent when the token came from a flag). */
  tokenFile?: string;
  close(): Promise<void>;
}

export const realLearnerFactory: LiveLearnerFactory = (params) => new AlpsLearner(params);

/**
 * A live session of the real simulator and the real ALPS learner, optionally publishing on a
 * telemetry socket whose control operations steer the session.
 */
export async function startLiveRun(o: LiveRunOptions): Promise<LiveRun> {
  if (!(SCHEDULERS as readonly string[]).includes(o.scheduler)) throw new InputError('--scheduler', `unknown '${o.scheduler}' (known: ${SCHEDULERS.join(', ')})`);
  if (!(o.stepS > 0 && o.stepS <= 3600)) throw new InputError('--step', `must be in (0, 3600] virtual seconds, got ${o.stepS}`);
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new InputError('--seed', `must be a non-negative integer, got ${o.seed}`);
  let bundle: Awaited<ReturnType<typeof loadWorkloadSource>>;
  try {
    bundle = await loadWorkloadSource(o.workload, { invocations: o.invocations, cpus: o.cpus, load: o.load, seed: o.seed });
  } catch (err) {
    // The workload comes from --sim here, not simulate's --workload: name the flag the user typed.
    if (err instanceof InputError && err.input === '--workload') throw new InputError('--sim', err.problem);
    throw err;
  }
  // The server is built first (the session publishes to it), so control ops reach the session
  // through this holder, filled in once the session exists.
  const holder: { session?: LiveSession } = {};
  const target = (): LiveSession => {
    if (!holder.session) throw new InputError('control', 'the session is still starting');
    return holder.session;
  };
  const telemetry = o.listen
    ? await startTelemetry({
        source: { kind: 'sim', name: `${bundle.description} on ${o.cpus} CPUs, ${o.scheduler}` },
        host: o.listen.host,
        port: o.listen.port,
        ...(o.listen.token !== undefined ? { token: o.listen.token } : {}),
        control: {
          setParams: (p) => target().setParams(p),
          pause: () => target().pause(),
          resume: () => target().resume(),
          pin: (id, p) => target().pin(id, p),
          unpin: (id) => target().unpin(id),
          snapshot: () => target().snapshot(),
        },
      })
    : undefined;
  const server = telemetry?.server;
  const tokenFile = telemetry?.tokenFile;
  let s: LiveSession;
  try {
    s = new LiveSession({
      workload: bundle.workload,
      cpus: o.cpus,
      scheduler: o.scheduler,
      seed: o.seed,
      stepNs: sToNs(o.stepS),
      simulate,
      learnerFactory: realLearnerFactory,
      learning: LEARNING_SCHEDULERS.has(o.scheduler),
      ...(o.learner ? { learner: o.learner } : {}),
      publisher: tee(server ?? nullPublisher, o.publisher ?? nullPublisher),
    });
  } catch (err) {
    // The socket is up and its token file written: a failed start must not leave either behind.
    await telemetry?.close();
    throw err;
  }
  holder.session = s;
  return {
    session: s,
    description: bundle.description,
    ...(server ? { server } : {}),
    ...(tokenFile ? { tokenFile } : {}),
    close: async () => {
      s.stop();
      await telemetry?.close();
    },
  };
}
