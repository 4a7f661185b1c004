import { InputError, UnsupportedError } from '../../core/errors.js';
import type { InvocationRecord } from '../../core/records.js';
import type { MachineProfile, Simulate } from '../../core/sim.js';
import type { ArrivalLaw } from '../../workload/arrivals.js';
import type { WorkloadBundle } from '../../workload/bundle.js';
import { ioMixWorkload } from '../../workload/io-mix.js';
import { table1Workload, type Table1Mix } from '../../workload/table1.js';
import { PAPER_DEPLOYMENTS } from '../../workload/deployments.js';
import { compareOutcomes, normaliseVariant, runVariant, type AbVariant } from '../ab.js';
import type { ComparisonResult, RunOutcome } from '../report.js';
import type { ProgressSink } from '../ab.js';

/** One experimental setup: which workload, how big, how loaded, on how many CPUs. */
export interface Setup {
  workload: Table1Mix | 'io-mix' | 'azure-fib';
  cpus: number;
  load: number;
  invocations: number;
  arrivals?: ArrivalLaw;
}

export const setupName = (s: Setup): string =>
  `${s.workload}, ${s.cpus} CPUs, ${Math.round(s.load * 100)}% load, ${s.invocations} invocations, ${s.arrivals ?? 'exponential'} arrivals`;

/** A run that could not be made (the model or the learner is missing from this build). */
export interface FailedRun {
  label: string;
  reason: string;
}

export interface Compared {
  setup: Setup;
  result: ComparisonResult;
  /** Records per label, for statistics the report does not carry (crossings, pairwise). */
  records: Map<string, readonly InvocationRecord[]>;
  bundle: WorkloadBundle;
  failed: FailedRun[];
}

/**
 * Shared state of a reproduction: the simulator, the seed, and a cache so an experiment that
 * needs a run another experiment already made (Fig. 7 reuses Fig. 5/6) does not repeat it.
 */
export class ReproContext {
  private readonly workloads = new Map<string, WorkloadBundle>();
  private readonly runs = new Map<string, RunOutcome | FailedRun>();
  simulatedRuns = 0;
  simulatedMs = 0;

  constructor(
    readonly simulate: Simulate,
    readonly seed: number,
    readonly progress?: ProgressSink,
    /** The simulated machine of every run (a calibrated machine file), or the ideal default. */
    readonly machine?: MachineProfile,
  ) {}

  bundle(s: Setup): WorkloadBundle {
    const key = JSON.stringify([s.workload, s.cpus, s.load, s.invocations, s.arrivals ?? 'exponential']);
    let b = this.workloads.get(key);
    if (!b) {
      const common = { invocations: s.invocations, cpus: s.cpus, load: s.load, seed: this.seed, arrivals: s.arrivals ?? 'exponential' };
      if (s.workload === 'io-mix') b = ioMixWorkload(common);
      else if (s.workload === 'azure-fib') {
        // Fig. 15: the Azure mix over the fib deployments only (the paper's ghOSt run used fib).
        b = table1Workload({ ...common, mix: 'azure', deployments: PAPER_DEPLOYMENTS.filter((d) => d.app === 'fib') });
        b.workload.name = 'azure-fib';
      } else b = table1Workload({ ...common, mix: s.workload });
      this.workloads.set(key, b);
    }
    return b;
  }

  /** Run (or fetch from the cache) every variant on the setup's workload. */
  compare(s: Setup, variants: readonly (string | AbVariant)[]): Compared {
    const bundle = this.bundle(s);
    const outcomes: RunOutcome[] = [];
    const failed: FailedRun[] = [];
    const vs = variants.map(normaliseVariant);
    const all = vs.some((v) => v.scheduler === 'srpt' && !v.options) ? vs : [{ scheduler: 'srpt', label: 'srpt' } as AbVariant, ...vs];
    let srpt: RunOutcome | undefined;
    all.forEach((v, i) => {
      const label = v.label ?? v.scheduler;
      const key = JSON.stringify([setupName(s), v.scheduler, v.options ?? null, v.simulate ? label : null]);
      let o = this.runs.get(key);
      if (!o) {
        this.progress?.start(`${label} · ${s.workload} ${s.cpus} CPUs ${Math.round(s.load * 100)}%`, i, all.length);
        try {
          const t0 = performance.now();
          const r = runVariant(this.simulate, bundle, v, this.seed, this.machine ? { machine: this.machine } : {}, this.progress ? (f) => this.progress!.update(f) : undefined);
          this.simulatedMs += performance.now() - t0;
          this.simulatedRuns++;
          // Keep only what reports need; SimResult internals would pin memory for the whole run.
          o = { scheduler: r.scheduler, label, records: r.records, contextSwitches: r.contextSwitches, makespanNs: r.makespanNs, busyNsPerCpu: r.busyNsPerCpu, events: r.events, policies: r.policies, wallMs: r.wallMs };
        } catch (e) {
          if (!(e instanceof UnsupportedError || e instanceof InputError)) throw e;
          o = { label, reason: e.message };
        }
        this.runs.set(key, o);
      }
      if ('reason' in o) failed.push({ label, reason: o.reason });
      else {
        const withLabel = { ...o, label };
        if (v.scheduler === 'srpt' && !v.options) srpt = withLabel;
        if (vs.includes(v)) outcomes.push(withLabel);
      }
    });
    const result = compareOutcomes(bundle, this.seed, outcomes, srpt?.records);
    const records = new Map<string, readonly InvocationRecord[]>();
    for (const o of outcomes) records.set(o.label ?? o.scheduler, o.records);
    if (srpt) records.set('srpt', srpt.records);
    return { setup: s, result, records, bundle, failed };
  }
}
