import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { WebSocket } from 'ws';
import { InputError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo } from '../core/workload.js';
import {
  parseServerMessage,
  type AckMsg,
  type BpfMsg,
  type ControlMsg,
  type HelloMsg,
  type RatesMsg,
  type ServerMessage,
  type StateMsg,
  type StatsMsg,
  type UtilMsg,
} from './schema.js';
import { readTokenFile, tokenPathFor } from './token.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type ControlRequest = DistributiveOmit<ControlMsg, 'v' | 'type' | 'id' | 'token'>;

/** Where `--connect` finds the control token: --token, $GHOST_ALPS_TOKEN, else the server's token file. */
export function resolveToken(url: string, flag?: string, tokenFile?: string): string | undefined {
  if (flag) return flag;
  if (process.env['GHOST_ALPS_TOKEN']) return process.env['GHOST_ALPS_TOKEN'];
  if (tokenFile) return readTokenFile(tokenFile);
  let port: number;
  try {
    port = Number(new URL(url).port);
  } catch {
    throw new InputError('--connect', `not a ws:// URL: ${url}`);
  }
  const path = tokenPathFor(port);
  return existsSync(path) ? readTokenFile(path) : undefined;
}

/**
 * A telemetry subscriber: keeps the newest of each message type (and the timeline), and sends
 * control operations, resolving with the server's ack or rejecting with its error.
 */
export class TelemetryClient extends EventEmitter {
  hello: HelloMsg | undefined;
  functions: FunctionInfo[] = [];
  policy: Policy | undefined;
  policyAtNs: Ns | undefined;
  stats: StatsMsg | undefined;
  state: StateMsg | undefined;
  rates: RatesMsg | undefined;
  bpf: BpfMsg | undefined;
  readonly timeline: UtilMsg[] = [];
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: (a: AckMsg) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly token: string | undefined,
  ) {
    super();
    ws.on('message', (data) => this.onMessage(String(data)));
    ws.on('close', (code, reason) => {
      for (const p of this.pending.values()) p.reject(new Error(`telemetry connection closed (${code} ${String(reason)})`));
      this.pending.clear();
      this.emit('close', code, String(reason));
    });
  }

  /** Connect and wait for the server's hello. */
  static connect(url: string, opts: { token?: string; timeoutMs?: number } = {}): Promise<TelemetryClient> {
    if (!/^wss?:\/\//.test(url)) return Promise.reject(new InputError('--connect', `expected a ws:// URL, got ${JSON.stringify(url)}`));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
      const client = new TelemetryClient(ws, opts.token);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new InputError('--connect', `no hello from ${url} within ${opts.timeoutMs ?? 5000} ms`));
      }, opts.timeoutMs ?? 5000);
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(new InputError('--connect', `cannot connect to ${url}: ${err.message}`));
      });
      client.once('hello', () => {
        clearTimeout(timer);
        resolve(client);
      });
    });
  }

  get canControl(): boolean {
    return this.token !== undefined && (this.hello?.controls.length ?? 0) > 0;
  }

  private onMessage(text: string): void {
    let msg: ServerMessage;
    try {
      msg = parseServerMessage(JSON.parse(text));
    } catch (err) {
      this.emit('invalid', err);
      return;
    }
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        break;
      case 'functions':
        this.functions = msg.funcs;
        break;
      case 'policy':
        this.policy = msg.policy;
        this.policyAtNs = msg.atNs;
        break;
      case 'stats':
        this.stats = msg;
        break;
      case 'state':
        this.state = msg;
        break;
      case 'util':
        this.timeline.push(msg);
        if (this.timeline.length > 1000) this.timeline.shift();
        break;
      case 'rates':
        this.rates = msg;
        break;
      case 'bpf':
        this.bpf = msg;
        break;
      case 'ack':
        this.pending.get(msg.id)?.resolve(msg);
        this.pending.delete(msg.id);
        break;
      case 'error':
        if (msg.id !== undefined && this.pending.has(msg.id)) {
          this.pending.get(msg.id)!.reject(new InputError(`server (${msg.code})`, msg.message));
          this.pending.delete(msg.id);
        }
        break;
    }
    // 'error' is special to EventEmitter (it throws without a listener): error frames are
    // emitted as 'server-error'.
    this.emit(msg.type === 'error' ? 'server-error' : msg.type, msg);
    this.emit('message', msg);
  }

  /** Send a control operation with this run's token. */
  control(req: ControlRequest): Promise<AckMsg> {
    if (this.token === undefined) {
      return Promise.reject(new InputError('control token', 'none known for this server (pass --token, set GHOST_ALPS_TOKEN, or run where its token file is)'));
    }
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ v: 1, type: 'control', id, token: this.token, ...req }));
    });
  }

  /** Resolve with the first policy whose generation exceeds `generation`. */
  nextPolicy(generation: number, timeoutMs = 30_000): Promise<Policy> {
    if (this.policy && this.policy.generation > generation) return Promise.resolve(this.policy);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('policy', on);
        reject(new Error(`no policy generation after ${generation} within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: { policy: Policy }): void => {
        if (m.policy.generation <= generation) return;
        clearTimeout(timer);
        this.off('policy', on);
        resolve(m.policy);
      };
      this.on('policy', on);
    });
  }

  /** True once `close()` was called (so a 'close' event is expected, not news). */
  closing = false;

  close(): void {
    this.closing = true;
    this.ws.close();
  }
}
