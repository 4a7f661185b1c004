import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import type { LearnerParams, Policy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo } from '../core/workload.js';
import type { TelemetryClient } from '../telemetry/client.js';
import type { LiveSession } from '../telemetry/live/session.js';
import type { FuncStat, GroupCdf, ParamsPatch, UtilMsg } from '../telemetry/schema.js';

/**
 * What the REPL drives: an embedded live session (`--sim`) or a remote publisher
 * (`--connect`). The commands are written once against this.
 */
export interface ReplBackend {
  readonly kind: 'sim' | 'remote';
  /** One line for the banner. */
  describe(): string;
  readonly policy: Policy | undefined;
  /** When the newest policy was installed (publisher's clock). */
  readonly policyAtNs: Ns | undefined;
  readonly functions: readonly FunctionInfo[];
  readonly params: Readonly<LearnerParams> | undefined;
  readonly learning: 'running' | 'paused';
  readonly pins: Array<{ funcId: FuncId; rank?: number; sliceNs?: Ns }>;
  readonly nowNs: Ns;
  stats(): { funcs: FuncStat[]; groups: GroupCdf[] } | undefined;
  lastUtil(): Omit<UtilMsg, 'v' | 'type'> | undefined;
  setParams(patch: ParamsPatch): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): Promise<void>;
  unpin(funcId: FuncId): Promise<void>;
  snapshot(): Promise<unknown>;
  /** The first policy with a generation above `generation` (the sim steps until one appears). */
  nextPolicy(generation: number): Promise<Policy>;
  funcId(nameOrId: string): FuncId;
  close(): void;
}

function findFunc(functions: readonly FunctionInfo[], nameOrId: string): FuncId {
  const n = /^\d+$/.test(nameOrId) ? Number(nameOrId) : NaN;
  const f = functions.find((x) => x.name === nameOrId || x.funcId === n);
  if (!f) throw new InputError(`function ${JSON.stringify(nameOrId)}`, 'not known here (try .funcs)');
  return f.funcId;
}

/** The embedded simulated machine. */
export class SimBackend implements ReplBackend {
  readonly kind = 'sim' as const;
  constructor(
    readonly session: LiveSession,
    private readonly label: string,
    private readonly onClose: () => void = () => {},
  ) {}

  describe(): string {
    return `embedded simulated machine: ${this.label}, ${this.session.cpus} CPUs, scheduler ${this.session.scheduler}`;
  }
  get policy(): Policy | undefined {
    return this.session.policy;
  }
  get policyAtNs(): Ns | undefined {
    return this.session.policies.at(-1)?.atNs;
  }
  get functions(): readonly FunctionInfo[] {
    return this.session.functions;
  }
  get params(): Readonly<LearnerParams> | undefined {
    return this.session.params;
  }
  get learning(): 'running' | 'paused' {
    return this.session.paused ? 'paused' : 'running';
  }
  get pins(): Array<{ funcId: FuncId; rank?: number; sliceNs?: Ns }> {
    return this.session.pins;
  }
  get nowNs(): Ns {
    return this.session.nowNs;
  }
  stats(): { funcs: FuncStat[]; groups: GroupCdf[] } {
    return this.session.stats();
  }
  lastUtil(): Omit<UtilMsg, 'v' | 'type'> | undefined {
    return this.session.lastUtil;
  }
  async setParams(patch: ParamsPatch): Promise<void> {
    this.session.setParams(patch);
  }
  async pause(): Promise<void> {
    this.session.pause();
  }
  async resume(): Promise<void> {
    this.session.resume();
  }
  async pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): Promise<void> {
    this.session.pin(funcId, pin);
  }
  async unpin(funcId: FuncId): Promise<void> {
    this.session.unpin(funcId);
  }
  async snapshot(): Promise<unknown> {
    return this.session.snapshot();
  }
  async nextPolicy(generation: number): Promise<Policy> {
    for (;;) {
      const p = this.session.policy;
      if (p && p.generation > generation) return p;
      if (this.session.done) throw new InputError('.next', 'the workload has finished; no further generation will come');
      this.session.step();
    }
  }
  funcId(nameOrId: string): FuncId {
    return findFunc(this.functions, nameOrId);
  }
  close(): void {
    this.session.stop();
    this.onClose();
  }
}

/** A publisher elsewhere, over the telemetry socket. */
export class RemoteBackend implements ReplBackend {
  readonly kind = 'remote' as const;

  constructor(
    readonly client: TelemetryClient,
    private readonly url: string,
  ) {}

  describe(): string {
    const h = this.client.hello;
    const ctl = this.client.canControl ? 'control enabled' : 'read-only (no token)';
    return `connected to ${this.url}: ${h?.source.kind ?? '?'} '${h?.source.name ?? '?'}', ${ctl}`;
  }
  get policy(): Policy | undefined {
    return this.client.policy;
  }
  get policyAtNs(): Ns | undefined {
    return this.client.policyAtNs;
  }
  get functions(): readonly FunctionInfo[] {
    return this.client.functions;
  }
  get params(): Readonly<LearnerParams> | undefined {
    return this.client.policy?.params;
  }
  get learning(): 'running' | 'paused' {
    return this.client.state?.learning ?? 'running';
  }
  get pins(): Array<{ funcId: FuncId; rank?: number; sliceNs?: Ns }> {
    return this.client.state?.pins ?? [];
  }
  get nowNs(): Ns {
    return this.client.timeline.at(-1)?.atNs ?? this.client.policyAtNs ?? 0;
  }
  stats(): { funcs: FuncStat[]; groups: GroupCdf[] } | undefined {
    const s = this.client.stats;
    return s ? { funcs: s.funcs, groups: s.groups } : undefined;
  }
  lastUtil(): Omit<UtilMsg, 'v' | 'type'> | undefined {
    return this.client.timeline.at(-1);
  }
  async setParams(patch: ParamsPatch): Promise<void> {
    await this.client.control({ op: 'set-params', params: patch });
  }
  async pause(): Promise<void> {
    await this.client.control({ op: 'pause' });
  }
  async resume(): Promise<void> {
    await this.client.control({ op: 'resume' });
  }
  async pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): Promise<void> {
    await this.client.control({ op: 'pin', funcId, ...pin });
  }
  async unpin(funcId: FuncId): Promise<void> {
    await this.client.control({ op: 'unpin', funcId });
  }
  async snapshot(): Promise<unknown> {
    return (await this.client.control({ op: 'snapshot' })).result;
  }
  nextPolicy(generation: number): Promise<Policy> {
    return this.client.nextPolicy(generation);
  }
  funcId(nameOrId: string): FuncId {
    return findFunc(this.functions, nameOrId);
  }
  close(): void {
    this.client.close();
  }
}
