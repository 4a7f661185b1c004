import type { FuncId } from '../core/ids.js';
import { isFuncId } from '../core/ids.js';
import { InputError } from '../core/errors.js';
import type { LearnerParams, Policy } from '../core/policy.js';
import { checkRank, checkSliceNs, LEARNER_MODES, POLICY_LIMITS, SLICE_MODELS, validatePolicy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo, Group } from '../core/workload.js';

/**
 * The telemetry wire schema, version 1 (documented in docs/telemetry.md). Every frame is one
 * JSON object with `v` (schema version) and `type`. Servers validate everything they receive
 * with `parseClientMessage`; clients validate what they receive with `parseServerMessage`.
 * Validators are hand-written so the error names the exact field and what is wrong with it.
 */
export const SCHEMA_VERSION = 1;

/** Largest frame a server accepts (ws `maxPayload`); bigger frames close the connection (1009). */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;

// ---------------------------------------------------------------- server → client

export type SourceKind = 'sim' | 'agent' | 'scx';
export const CONTROL_OPS = ['set-params', 'pause', 'resume', 'pin', 'unpin', 'snapshot'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

export interface HelloMsg {
  v: 1;
  type: 'hello';
  /** Who publishes: the simulated machine, a ghOSt agent, or the sched_ext backend. */
  source: { kind: SourceKind; name: string };
  /** Control operations this publisher accepts (each needs the run's token). */
  controls: ControlOp[];
}

export interface FunctionsMsg {
  v: 1;
  type: 'functions';
  funcs: FunctionInfo[];
}

export interface PolicyMsg {
  v: 1;
  type: 'policy';
  /** Publisher's clock (virtual ns for the simulator, monotonic ns for agents). */
  atNs: Ns;
  policy: Policy;
}

export interface FuncStat {
  funcId: FuncId;
  name?: string;
  invocations: number;
  meanTurnaroundNs: Ns;
  p99TurnaroundNs: Ns;
  /** From the installed policy; absent when the function has no entry. */
  rank?: number;
  sliceNs?: Ns;
}

/** Turnaround distribution of one Table 1 group as quantile points (q in 0..1, ns). */
export interface GroupCdf {
  group: Group;
  count: number;
  points: Array<[q: number, ns: Ns]>;
}

export interface StatsMsg {
  v: 1;
  type: 'stats';
  atNs: Ns;
  funcs: FuncStat[];
  groups: GroupCdf[];
}

export interface UtilMsg {
  v: 1;
  type: 'util';
  atNs: Ns;
  cpus: number;
  /** Measured busy share of the CPUs (0–100) over the publisher's last interval, if measured. */
  utilisationPct?: number;
  /** Offered load of the arrivals in the interval (0–100+), if the publisher knows demand. */
  offeredPct?: number;
  /** Completions per second over the interval. */
  throughputPerS: number;
  /** Completions so far. */
  completed: number;
}

export interface RatesMsg {
  v: 1;
  type: 'rates';
  atNs: Ns;
  /** Scheduling decisions (picks/commits) per second. */
  decisionsPerS: number;
  /** Failed transactions per second (ghOSt stale sequence numbers, busy CPUs). */
  txnFailuresPerS: number;
}

export interface BpfMsg {
  v: 1;
  type: 'bpf';
  atNs: Ns;
  /** sched_ext state as /sys/kernel/sched_ext/state spells it, or the backend's own. */
  state: string;
  scheduler?: string;
  counters: Record<string, number>;
}

export interface StateMsg {
  v: 1;
  type: 'state';
  atNs: Ns;
  learning: 'running' | 'paused';
  pins: Array<{ funcId: FuncId; rank?: number; sliceNs?: Ns }>;
}

export interface AckMsg {
  v: 1;
  type: 'ack';
  id: string;
  op: ControlOp | 'ping';
  result?: unknown;
}

export const ERROR_CODES = ['bad-json', 'bad-message', 'unknown-op', 'unauthorized', 'rejected', 'rate-limited', 'unsupported', 'internal'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorMsg {
  v: 1;
  type: 'error';
  id?: string;
  code: ErrorCode;
  message: string;
}

export type ServerMessage = HelloMsg | FunctionsMsg | PolicyMsg | StatsMsg | UtilMsg | RatesMsg | BpfMsg | StateMsg | AckMsg | ErrorMsg;

// ---------------------------------------------------------------- client → server

export interface PingMsg {
  v: 1;
  type: 'ping';
  id: string;
}

export type ParamsPatch = Partial<LearnerParams>;

interface ControlBase {
  v: 1;
  type: 'control';
  id: string;
  token: string;
}
export type ControlMsg = ControlBase &
  (
    | { op: 'set-params'; params: ParamsPatch }
    | { op: 'pause' | 'resume' | 'snapshot' }
    | { op: 'pin'; funcId: FuncId; rank?: number; sliceNs?: Ns }
    | { op: 'unpin'; funcId: FuncId }
  );

export type ClientMessage = PingMsg | ControlMsg;

// ---------------------------------------------------------------- validators

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function need(cond: boolean, field: string, problem: string): asserts cond {
  if (!cond) throw new InputError(field, problem);
}

function onlyKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) need(allowed.includes(k), `${where}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

function str(o: Obj, k: string, where: string, max = 256): string {
  const v = o[k];
  need(typeof v === 'string' && v.length > 0 && v.length <= max, `${where}.${k}`, `must be a non-empty string of at most ${max} characters`);
  return v;
}

function num(o: Obj, k: string, where: string): number {
  const v = o[k];
  need(typeof v === 'number' && Number.isFinite(v), `${where}.${k}`, `must be a finite number, got ${shown(v)}`);
  return v;
}

/**
 * A value quoted in an error frame: JSON, cut to 60 characters. Errors echo what was wrong, but a
 * 16 kB bad field must not come back as a 16 kB reply (replies cost the server memory while a
 * client does not read them).
 */
export function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function envelope(raw: unknown): Obj {
  need(isObj(raw), 'message', 'must be a JSON object');
  need(raw['v'] === SCHEMA_VERSION, 'message.v', `must be ${SCHEMA_VERSION} (this server speaks schema v${SCHEMA_VERSION}), got ${shown(raw['v'])}`);
  need(typeof raw['type'] === 'string', 'message.type', 'must be a string');
  return raw;
}

/** Parameter keys and their shape; ranges are the learner's to judge (its setParams throws). */
const PARAM_KINDS: Record<keyof LearnerParams, 'number' | 'int' | 'bool' | 'model' | 'mode'> = {
  alpha: 'number',
  beta: 'number',
  gamma: 'number',
  theta: 'number',
  windowNs: 'int',
  maxRecords: 'int',
  model: 'model',
  mode: 'mode',
  ioAware: 'bool',
  cpus: 'int',
  seed: 'int',
};
export const PARAM_KEYS = Object.keys(PARAM_KINDS) as Array<keyof LearnerParams>;

/** Check the shape of a learner-parameter patch (unknown keys and wrong types are refused). */
export function parseParamsPatch(raw: unknown, where = 'params'): ParamsPatch {
  need(isObj(raw), where, 'must be an object of learner parameters');
  const keys = Object.keys(raw);
  need(keys.length > 0, where, `must set at least one of ${PARAM_KEYS.join(', ')}`);
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k of keys) {
    // Own keys only: a JSON "__proto__" key must not find Object.prototype here.
    const kind = Object.hasOwn(PARAM_KINDS, k) ? PARAM_KINDS[k as keyof LearnerParams] : undefined;
    need(kind !== undefined, `${where}.${k}`, `unknown learner parameter (known: ${PARAM_KEYS.join(', ')})`);
    const v = raw[k];
    const f = `${where}.${k}`;
    switch (kind) {
      case 'number':
        need(typeof v === 'number' && Number.isFinite(v), f, `must be a finite number, got ${shown(v)}`);
        break;
      case 'int':
        need(typeof v === 'number' && Number.isSafeInteger(v), f, `must be an integer, got ${shown(v)}`);
        break;
      case 'bool':
        need(typeof v === 'boolean', f, `must be true or false, got ${shown(v)}`);
        break;
      case 'model':
        need(typeof v === 'string' && (SLICE_MODELS as readonly string[]).includes(v), f, `must be one of ${SLICE_MODELS.join(', ')}, got ${shown(v)}`);
        break;
      case 'mode':
        need(typeof v === 'string' && (LEARNER_MODES as readonly string[]).includes(v), f, `must be one of ${LEARNER_MODES.join(', ')}, got ${shown(v)}`);
        break;
    }
    out[k] = v;
  }
  return { ...out } as ParamsPatch;
}

/** A pin's rank and slice obey the bounds of every policy (core/policy.ts POLICY_LIMITS). */
function optRank(o: Obj, where: string): number | undefined {
  return o['rank'] === undefined ? undefined : checkRank(o['rank'], `${where}.rank`);
}

function optSlice(o: Obj, where: string): Ns | undefined {
  return o['sliceNs'] === undefined ? undefined : checkSliceNs(o['sliceNs'], `${where}.sliceNs`);
}

/**
 * Validate one frame from a client. Throws InputError naming the bad field. `unknown-op`
 * problems are reported with input `message.op` so the server can map them to that code.
 */
export function parseClientMessage(raw: unknown): ClientMessage {
  const o = envelope(raw);
  const type = o['type'];
  if (type === 'ping') {
    onlyKeys(o, ['v', 'type', 'id'], 'message');
    return { v: 1, type: 'ping', id: str(o, 'id', 'message', 64) };
  }
  need(type === 'control', 'message.type', `must be "ping" or "control", got ${shown(type)}`);
  const id = str(o, 'id', 'message', 64);
  const token = str(o, 'token', 'message', 256);
  const op = o['op'];
  need(typeof op === 'string' && (CONTROL_OPS as readonly string[]).includes(op), 'message.op', `unknown operation ${shown(op)} (known: ${CONTROL_OPS.join(', ')})`);
  const base = { v: 1 as const, type: 'control' as const, id, token };
  const common = ['v', 'type', 'id', 'token', 'op'];
  switch (op as ControlOp) {
    case 'set-params':
      onlyKeys(o, [...common, 'params'], 'message');
      return { ...base, op: 'set-params', params: parseParamsPatch(o['params'], 'message.params') };
    case 'pause':
    case 'resume':
    case 'snapshot':
      onlyKeys(o, common, 'message');
      return { ...base, op: op as 'pause' | 'resume' | 'snapshot' };
    case 'pin': {
      onlyKeys(o, [...common, 'funcId', 'rank', 'sliceNs'], 'message');
      need(isFuncId(o['funcId']), 'message.funcId', `must be a function id (integer 1..2^32-1), got ${shown(o['funcId'])}`);
      const rank = optRank(o, 'message');
      const sliceNs = optSlice(o, 'message');
      need(rank !== undefined || sliceNs !== undefined, 'message', 'pin needs rank, sliceNs or both');
      return { ...base, op: 'pin', funcId: o['funcId'] as number, ...(rank !== undefined ? { rank } : {}), ...(sliceNs !== undefined ? { sliceNs } : {}) };
    }
    case 'unpin':
      onlyKeys(o, [...common, 'funcId'], 'message');
      need(isFuncId(o['funcId']), 'message.funcId', `must be a function id (integer 1..2^32-1), got ${shown(o['funcId'])}`);
      return { ...base, op: 'unpin', funcId: o['funcId'] as number };
  }
}

const SERVER_TYPES = ['hello', 'functions', 'policy', 'stats', 'util', 'rates', 'bpf', 'state', 'ack', 'error'] as const;

/**
 * Validate one frame from a server (the REPL's `--connect` and the tests use it; the
 * dashboard page has its own small checks). Checks the envelope and the fields each type's
 * consumers read, so a wrong-version or truncated publisher is caught at the edge.
 */
export function parseServerMessage(raw: unknown): ServerMessage {
  const o = envelope(raw);
  const type = o['type'] as string;
  need((SERVER_TYPES as readonly string[]).includes(type), 'message.type', `unknown server message type ${shown(type)}`);
  switch (type) {
    case 'hello':
      need(isObj(o['source']), 'message.source', 'must be an object');
      need(Array.isArray(o['controls']), 'message.controls', 'must be an array');
      break;
    case 'functions':
      need(Array.isArray(o['funcs']), 'message.funcs', 'must be an array');
      break;
    case 'policy':
      num(o, 'atNs', 'message');
      validatePolicy(o['policy'], POLICY_LIMITS, 'message.policy');
      break;
    case 'stats':
      num(o, 'atNs', 'message');
      need(Array.isArray(o['funcs']), 'message.funcs', 'must be an array');
      need(Array.isArray(o['groups']), 'message.groups', 'must be an array');
      break;
    case 'util':
      num(o, 'atNs', 'message');
      num(o, 'throughputPerS', 'message');
      break;
    case 'rates':
      num(o, 'atNs', 'message');
      num(o, 'decisionsPerS', 'message');
      num(o, 'txnFailuresPerS', 'message');
      break;
    case 'bpf':
      num(o, 'atNs', 'message');
      str(o, 'state', 'message');
      break;
    case 'state':
      need(o['learning'] === 'running' || o['learning'] === 'paused', 'message.learning', 'must be running or paused');
      need(Array.isArray(o['pins']), 'message.pins', 'must be an array');
      break;
    case 'ack':
      str(o, 'id', 'message', 64);
      break;
    case 'error':
      need(typeof o['code'] === 'string' && (ERROR_CODES as readonly string[]).includes(o['code']), 'message.code', 'unknown error code');
      need(typeof o['message'] === 'string', 'message.message', 'must be a string');
      break;
  }
  return o as unknown as ServerMessage;
}
