import type { InvocationRecord } from '../../../src/core/records.js';
import type { SimOptions, SimResult, Simulate } from '../../../src/core/sim.js';
import type { Workload } from '../../../src/core/workload.js';

/**
 * A tiny test double of the simulator contract (src/core/sim.ts), for harness tests that must
 * not depend on src/sim: a global queue on C CPUs, non-preemptive, served FIFO or, for
 * `srpt`, shortest-total-first (a phase's block time is simply spent holding the CPU).
 */
export const fakeSimulate: Simulate = (w: Workload, o: SimOptions): SimResult => {
  const free = new Array<number>(o.cpus).fill(0);
  const busy = new Array<number>(o.cpus).fill(0);
  const records: InvocationRecord[] = [];
  const pending = [...w.invocations];
  const total = (s: (typeof pending)[number]): number => s.phases.reduce((a, p) => a + p.ns, 0);
  let switches = 0;
  let events = 0;
  while (pending.length) {
    // The CPU that frees first takes the next job among those arrived by then.
    let cpu = 0;
    for (let c = 1; c < o.cpus; c++) if (free[c]! < free[cpu]!) cpu = c;
    const t = Math.max(free[cpu]!, pending[0]!.arrivalNs);
    let pick = 0;
    if (o.scheduler === 'srpt') {
      for (let i = 1; i < pending.length && pending[i]!.arrivalNs <= t; i++) if (total(pending[i]!) < total(pending[pick]!)) pick = i;
    }
    const s = pending.splice(pick, 1)[0]!;
    const cpuNs = s.phases.reduce((a, p) => a + (p.kind === 'cpu' ? p.ns : 0), 0);
    const end = t + total(s);
    records.push({ id: s.id, funcId: s.funcId, arrivalNs: s.arrivalNs, endNs: end, cpuNs, firstWaitNs: t - s.arrivalNs, waitNs: t - s.arrivalNs, voluntarySwitches: 1, involuntarySwitches: 0, slicesNs: [cpuNs] });
    free[cpu] = end;
    busy[cpu]! += cpuNs;
    switches++;
    events += 2;
    o.onProgress?.(records.length / w.invocations.length);
  }
  records.sort((a, b) => a.id! - b.id!);
  return { scheduler: o.scheduler, cpus: o.cpus, records, contextSwitches: switches, makespanNs: Math.max(...free), busyNsPerCpu: busy, events, policies: [] };
};
