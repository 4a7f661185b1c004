import type { Ns } from '../core/time.js';
import type { ControlTarget, TelemetryPublisher } from './publisher.js';
import { TelemetryServer } from './server.js';
import type { SourceKind } from './schema.js';
import { generateToken, removeTokenFile, tokenPathFor, writeTokenFile } from './token.js';

export interface StartTelemetryOptions {
  source: { kind: SourceKind; name: string };
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = any free port. */
  port: number;
  /** Use this token instead of generating one (then no token file is written). */
  token?: string;
  control?: ControlTarget;
}

export interface RunningTelemetry {
  server: TelemetryServer;
  /** The run's token file (0600), absent when the token came from the caller. */
  tokenFile?: string;
  close(): Promise<void>;
}

/**
 * Start a telemetry endpoint for one run: a fresh token written to the per-port token file
 * (what `repl --connect` looks up), or the caller's token. Agents and the sched_ext backend call
 * this, then publish on `server`; `close()` stops it and removes the token file.
 */
export async function startTelemetry(o: StartTelemetryOptions): Promise<RunningTelemetry> {
  const token = o.token ?? generateToken();
  const server = await TelemetryServer.listen({
    host: o.host ?? '127.0.0.1',
    port: o.port,
    token,
    source: o.source,
    ...(o.control ? { control: o.control } : {}),
    onError: (err) => process.stderr.write(`ghost-alps: telemetry control failed: ${(err as Error).stack ?? String(err)}\n`),
  });
  let tokenFile: string | undefined;
  if (o.token === undefined) {
    tokenFile = tokenPathFor(server.port);
    writeTokenFile(tokenFile, token);
  }
  return {
    server,
    ...(tokenFile ? { tokenFile } : {}),
    close: async () => {
      if (tokenFile) removeTokenFile(tokenFile);
      await server.close();
    },
  };
}

/** The counters a scheduling agent keeps (the ghOSt agent's AgentStats has this shape). */
export interface DecisionCounters {
  decisions: number;
  /** Failed transactions by reason (ESTALE, EBUSY, …). */
  failures: Readonly<Record<string, number>>;
}

/**
 * Turns an agent's cumulative counters into the `rates` message: call `sample` now and then
 * (e.g. each second) with the agent's clock and its counters; it publishes per-second rates
 * over the interval since the previous sample.
 */
export class RateSampler {
  private last: { atNs: Ns; decisions: number; failures: number } | undefined;

  constructor(private readonly pub: TelemetryPublisher) {}

  sample(atNs: Ns, c: DecisionCounters): void {
    const failures = Object.values(c.failures).reduce((a, b) => a + b, 0);
    const prev = this.last;
    this.last = { atNs, decisions: c.decisions, failures };
    if (!prev || atNs <= prev.atNs) return;
    const s = (atNs - prev.atNs) / 1e9;
    this.pub.rates({ atNs, decisionsPerS: (c.decisions - prev.decisions) / s, txnFailuresPerS: (failures - prev.failures) / s });
  }
}
