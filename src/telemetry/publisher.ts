import type { FuncId } from '../core/ids.js';
import type { Policy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo } from '../core/workload.js';
import type { BpfMsg, FuncStat, GroupCdf, ParamsPatch, RatesMsg, StateMsg, UtilMsg } from './schema.js';

type Body<T> = Omit<T, 'v' | 'type'>;

/**
 * What producers call to publish telemetry: the simulator's live session, the ghOSt agent
 * (policy generations, decision and transaction-failure rates) and the sched_ext backend
 * (policy generations, BPF scheduler state). `TelemetryServer` implements it; `nullPublisher`
 * lets producers publish unconditionally when no server runs.
 */
export interface TelemetryPublisher {
  functions(funcs: readonly FunctionInfo[]): void;
  policy(policy: Policy, atNs: Ns): void;
  stats(atNs: Ns, funcs: FuncStat[], groups: GroupCdf[]): void;
  util(u: Body<UtilMsg>): void;
  rates(r: Body<RatesMsg>): void;
  bpf(b: Body<BpfMsg>): void;
  state(s: Body<StateMsg>): void;
}

export const nullPublisher: TelemetryPublisher = {
  functions() {},
  policy() {},
  stats() {},
  util() {},
  rates() {},
  bpf() {},
  state() {},
};

/**
 * What control operations act on (a learner, wrapped by whoever owns it). Each method either
 * applies the whole change or throws InputError and changes nothing.
 */
export interface ControlTarget {
  setParams(patch: ParamsPatch): void;
  pause(): void;
  resume(): void;
  pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): void;
  unpin(funcId: FuncId): void;
  /** A JSON-serialisable picture of the current state (policy, parameters, pins, stats). */
  snapshot(): unknown;
}

/** Publish to several publishers at once (a server and a REPL's own view, say). */
export function tee(...pubs: TelemetryPublisher[]): TelemetryPublisher {
  return {
    functions: (f) => pubs.forEach((p) => p.functions(f)),
    policy: (policy, atNs) => pubs.forEach((p) => p.policy(policy, atNs)),
    stats: (atNs, funcs, groups) => pubs.forEach((p) => p.stats(atNs, funcs, groups)),
    util: (u) => pubs.forEach((p) => p.util(u)),
    rates: (r) => pubs.forEach((p) => p.rates(r)),
    bpf: (b) => pubs.forEach((p) => p.bpf(b)),
    state: (s) => pubs.forEach((p) => p.state(s)),
  };
}
