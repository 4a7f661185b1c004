import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { InputError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo } from '../core/workload.js';
import type { ControlTarget, TelemetryPublisher } from './publisher.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';
import {
  CONTROL_OPS,
  MAX_CLIENT_FRAME_BYTES,
  parseClientMessage,
  SCHEMA_VERSION,
  type BpfMsg,
  type ClientMessage,
  type ControlMsg,
  type ErrorCode,
  type FuncStat,
  type GroupCdf,
  type HelloMsg,
  type RatesMsg,
  type ServerMessage,
  type SourceKind,
  type StateMsg,
  type UtilMsg,
} from './schema.js';
import { tokenMatches } from './token.js';

export interface TelemetryServerOptions {
  /** Interface to bind. Default 127.0.0.1: telemetry is for the operator of this host. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Control token of this run (see token.ts). */
  token: string;
  source: { kind: SourceKind; name: string };
  /** What control operations act on; without one, every control op answers `unsupported`. */
  control?: ControlTarget;
  /** Per-connection frame budget. Default 50/s with bursts of 100. */
  rate?: RateLimit;
  /** Frames refused for rate in a row before the connection is closed (1008). Default 200. */
  floodCloseAfter?: number;
  /** Wrong tokens before the connection is closed (1008). Default 5. */
  badTokenCloseAfter?: number;
  /** Largest accepted frame, bytes. Default MAX_CLIENT_FRAME_BYTES. */
  maxPayload?: number;
  /** Timeline points replayed to a newly connected client. Default 600. */
  historyLimit?: number;
  /** Per-connection send queue cap, bytes. Default MAX_QUEUED_BYTES. */
  maxQueuedBytes?: number;
  /** Unexpected errors in control handlers (they become `internal` error frames). */
  onError?: (err: unknown) => void;
}

interface Conn {
  limiter: RateLimiter;
  refusedInARow: number;
  lastRateErrorAt: number;
  badTokens: number;
}

/**
 * Most bytes queued for one connection (ws's own queue plus the socket's, `bufferedAmount`).
 * Every frame the server sends goes through `send` and this cap: a client that does not read
 * costs the server at most this much, whatever it sends. Policy at the cap: a broadcast frame
 * is dropped for that client (it gets the newest state when it catches up); a reply (hello,
 * replay, ack, error) closes the connection with 1008, since a client that ignores its own
 * replies while sending more requests is not a viewer that fell behind.
 */
export const MAX_QUEUED_BYTES = 1024 * 1024;

/** Per-connection send queue outcomes (the metric behind the policy). */
export interface SendQueueCounters {
  /** Broadcast frames not sent to a connection whose queue was full. */
  droppedFrames: number;
  /** Connections closed (1008) because a reply found the queue full. */
  closedFull: number;
}

/**
 * The telemetry endpoint: broadcasts what producers publish to every connected client,
 * replays the latest state to newcomers, and applies authenticated control operations.
 * Hostile input never throws out of a handler: each bad frame gets an `error` frame, and
 * floods, repeated wrong tokens and oversized frames get the connection closed.
 */
export class TelemetryServer implements TelemetryPublisher {
  private readonly wss: WebSocketServer;
  private readonly conns = new Map<WebSocket, Conn>();
  private hello: HelloMsg;
  private latest: Partial<Record<'functions' | 'policy' | 'stats' | 'state' | 'bpf' | 'rates', string>> = {};
  private timeline: string[] = [];
  private readonly historyLimit: number;
  /** Counters for tests and `.top`: what the server refused and why. */
  readonly refused: Record<ErrorCode | 'closed', number> = {
    'bad-json': 0,
    'bad-message': 0,
    'unknown-op': 0,
    unauthorized: 0,
    rejected: 0,
    'rate-limited': 0,
    unsupported: 0,
    internal: 0,
    closed: 0,
  };
  /** What the per-connection send cap did (see MAX_QUEUED_BYTES). */
  readonly sendQueue: SendQueueCounters = { droppedFrames: 0, closedFull: 0 };

  private constructor(
    wss: WebSocketServer,
    private readonly opts: TelemetryServerOptions,
  ) {
    this.wss = wss;
    this.historyLimit = opts.historyLimit ?? 600;
    this.hello = { v: 1, type: 'hello', source: opts.source, controls: opts.control ? [...CONTROL_OPS] : [] };
    wss.on('connection', (ws) => this.accept(ws));
  }

  static listen(opts: TelemetryServerOptions): Promise<TelemetryServer> {
    const host = opts.host ?? '127.0.0.1';
    // '' is "every interface" to the socket layer: the feed would be readable from the network.
    if (host === '') return Promise.reject(new InputError('host', 'empty: it would bind every interface (give 127.0.0.1, or 0.0.0.0 explicitly)'));
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host,
        port: opts.port ?? 0,
        maxPayload: opts.maxPayload ?? MAX_CLIENT_FRAME_BYTES,
        // Browsers let any web page open a socket to localhost; only pages served from this
        // host (the dashboard) and non-browser clients (no Origin header) may connect.
        verifyClient: (info: { origin: string; req: IncomingMessage }) => originAllowed(info.origin),
        perMessageDeflate: false,
      });
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        resolve(new TelemetryServer(wss, opts));
      });
    });
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.opts.host ?? '127.0.0.1';
    return `ws://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  get clients(): number {
    return this.conns.size;
  }

  close(): Promise<void> {
    for (const ws of this.conns.keys()) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  // ------------------------------------------------------------ publisher

  functions(funcs: readonly FunctionInfo[]): void {
    this.latest.functions = this.broadcast({ v: 1, type: 'functions', funcs: funcs.map((f) => ({ ...f })) });
  }

  policy(policy: Policy, atNs: Ns): void {
    this.latest.policy = this.broadcast({ v: 1, type: 'policy', atNs, policy });
  }

  stats(atNs: Ns, funcs: FuncStat[], groups: GroupCdf[]): void {
    this.latest.stats = this.broadcast({ v: 1, type: 'stats', atNs, funcs, groups });
  }

  util(u: Omit<UtilMsg, 'v' | 'type'>): void {
    this.timeline.push(this.broadcast({ v: 1, type: 'util', ...u }));
    if (this.timeline.length > this.historyLimit) this.timeline.splice(0, this.timeline.length - this.historyLimit);
  }

  rates(r: Omit<RatesMsg, 'v' | 'type'>): void {
    this.latest.rates = this.broadcast({ v: 1, type: 'rates', ...r });
  }

  bpf(b: Omit<BpfMsg, 'v' | 'type'>): void {
    this.latest.bpf = this.broadcast({ v: 1, type: 'bpf', ...b });
  }

  state(s: Omit<StateMsg, 'v' | 'type'>): void {
    this.latest.state = this.broadcast({ v: 1, type: 'state', ...s });
  }

  private broadcast(msg: ServerMessage): string {
    const text = JSON.stringify(msg);
    for (const ws of this.conns.keys()) this.send(ws, text, 'broadcast');
    return text;
  }

  /** The one way a frame leaves the server: bounded per connection (see MAX_QUEUED_BYTES). */
  private send(ws: WebSocket, text: string, kind: 'broadcast' | 'reply'): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount + Buffer.byteLength(text) > (this.opts.maxQueuedBytes ?? MAX_QUEUED_BYTES)) {
      if (kind === 'broadcast') {
        this.sendQueue.droppedFrames++;
        return;
      }
      this.sendQueue.closedFull++;
      this.closeConn(ws, 'send queue full: read the replies');
      // The close frame queues behind the unread data; do not wait on a peer that is not reading.
      const t = setTimeout(() => ws.terminate(), 1000);
      t.unref();
      return;
    }
    ws.send(text);
  }

  // ------------------------------------------------------------ connections

  private accept(ws: WebSocket): void {
    const rate = this.opts.rate ?? { perSecond: 50, burst: 100 };
    this.conns.set(ws, { limiter: new RateLimiter(rate), refusedInARow: 0, lastRateErrorAt: -Infinity, badTokens: 0 });
    ws.on('close', () => this.conns.delete(ws));
    // Oversized frames and protocol violations surface here (ws closes with 1009/1002 itself).
    ws.on('error', () => {
      this.refused.closed++;
      this.conns.delete(ws);
    });
    ws.on('message', (data, isBinary) => {
      try {
        this.onFrame(ws, data, isBinary);
      } catch (err) {
        // Defence in depth: a bug in a handler must not take the producer down with it.
        this.opts.onError?.(err);
        this.sendError(ws, 'internal', 'internal error while handling the frame');
      }
    });
    this.send(ws, JSON.stringify(this.hello), 'reply');
    for (const k of ['functions', 'policy', 'state', 'stats', 'rates', 'bpf'] as const) {
      const text = this.latest[k];
      if (text) this.send(ws, text, 'reply');
    }
    for (const text of this.timeline) this.send(ws, text, 'reply');
  }

  private closeConn(ws: WebSocket, reason: string): void {
    if (!this.conns.has(ws)) return;
    this.refused.closed++;
    ws.close(1008, reason);
    this.conns.delete(ws);
  }

  private sendError(ws: WebSocket, code: ErrorCode, message: string, id?: string): void {
    this.refused[code]++;
    this.send(ws, JSON.stringify({ v: SCHEMA_VERSION, type: 'error', code, message, ...(id !== undefined ? { id } : {}) }), 'reply');
  }

  private onFrame(ws: WebSocket, data: RawData, isBinary: boolean): void {
    const conn = this.conns.get(ws);
    if (!conn) return;
    if (!conn.limiter.take()) {
      conn.refusedInARow++;
      this.refused['rate-limited']++;
      if (conn.refusedInARow >= (this.opts.floodCloseAfter ?? 200)) return this.closeConn(ws, 'flood: too many frames');
      // One error frame per second at most, or the flood would be answered by a flood.
      const now = performance.now();
      if (now - conn.lastRateErrorAt >= 1000) {
        conn.lastRateErrorAt = now;
        this.refused['rate-limited']--;
        this.sendError(ws, 'rate-limited', `more than ${(this.opts.rate ?? { perSecond: 50 }).perSecond} frames/s; frames are being dropped`);
      }
      return;
    }
    conn.refusedInARow = 0;
    if (isBinary) return this.sendError(ws, 'bad-message', 'binary frames are not part of the schema; send JSON text');
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return this.sendError(ws, 'bad-json', `frame is not JSON: ${(err as Error).message}`);
    }
    const id = idOf(raw);
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(raw);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return this.sendError(ws, err.input === 'message.op' ? 'unknown-op' : 'bad-message', err.message, id);
    }
    if (msg.type === 'ping') {
      this.send(ws, JSON.stringify({ v: 1, type: 'ack', id: msg.id, op: 'ping' }), 'reply');
      return;
    }
    this.control(ws, conn, msg);
  }

  private control(ws: WebSocket, conn: Conn, msg: ControlMsg): void {
    if (!tokenMatches(this.opts.token, msg.token)) {
      conn.badTokens++;
      this.sendError(ws, 'unauthorized', 'wrong control token (see the token file the server printed, or --token)', msg.id);
      if (conn.badTokens >= (this.opts.badTokenCloseAfter ?? 5)) this.closeConn(ws, 'too many wrong tokens');
      return;
    }
    const target = this.opts.control;
    if (!target) return this.sendError(ws, 'unsupported', `this publisher (${this.hello.source.kind}) accepts no control operations`, msg.id);
    let result: unknown;
    try {
      switch (msg.op) {
        case 'set-params':
          target.setParams(msg.params);
          break;
        case 'pause':
          target.pause();
          break;
        case 'resume':
          target.resume();
          break;
        case 'pin':
          target.pin(msg.funcId, { ...(msg.rank !== undefined ? { rank: msg.rank } : {}), ...(msg.sliceNs !== undefined ? { sliceNs: msg.sliceNs } : {}) });
          break;
        case 'unpin':
          target.unpin(msg.funcId);
          break;
        case 'snapshot':
          result = target.snapshot();
          break;
      }
    } catch (err) {
      if (err instanceof InputError) return this.sendError(ws, 'rejected', err.message, msg.id);
      this.opts.onError?.(err);
      return this.sendError(ws, 'internal', `control operation ${msg.op} failed`, msg.id);
    }
    this.send(ws, JSON.stringify({ v: 1, type: 'ack', id: msg.id, op: msg.op, ...(result !== undefined ? { result } : {}) }), 'reply');
  }
}

function idOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const id = (raw as Record<string, unknown>)['id'];
  return typeof id === 'string' && id.length <= 64 ? id : undefined;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** No Origin (CLI clients, tests) or a page served from this host. */
export function originAllowed(origin: string | undefined): boolean {
  if (!origin) return true;
  try {
    return LOCAL_HOSTS.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}
