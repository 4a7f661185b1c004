import {ioMixWorkload} from './src/workload/index.js';
import {simulate} from './src/sim/index.js';
const b = ioMixWorkload({invocations: 6000, cpus: 16, load: 0.9, seed: 1});
const cls = b.classes!.of;
for (const [s, learner] of [['cfs', {}], ['eevdf', {}], ['srpt', {}], ['alps', {}], ['alps', { ioAware: true }]] as const) {
  const r = simulate(b.workload, { cpus: 16, scheduler: s, seed: 1, learner });
  const by = new Map<string, number[]>();
  for (const x of r.records) { const k = cls.get(x.funcId)!; const a = by.get(k) ?? []; a.push(x.endNs - x.arrivalNs); by.set(k, a); }
  console.log((s + (learner.ioAware ? '-io' : '')).padEnd(8), [...by].sort().map(([k, a]) => `c${k} ${(a.reduce((x, y) => x + y, 0) / a.length / 1e6).toFixed(0)}`).join(' '));
}
const r = simulate(b.workload, { cpus: 16, scheduler: 'alps', seed: 1 });
const p = r.policies[r.policies.length - 1]!;
console.log(p.entries.map(e => `c${cls.get(e.funcId)}:${e.funcId}:r${e.rank}/${(e.sliceNs/1e6).toFixed(0)}`).join(' '));
const fw = new Map<string, number[]>(); for (const x of r.records) { const k = cls.get(x.funcId)!; const a = fw.get(k) ?? []; a.push(x.waitNs!); fw.set(k, a); }
console.log('alps waits', [...fw].sort().map(([k, a]) => `c${k} ${(a.reduce((x, y) => x + y, 0) / a.length / 1e6).toFixed(1)}`).join(' '));
const rc = simulate(b.workload, { cpus: 16, scheduler: 'cfs', seed: 1 });
const fc = new Map<string, number[]>(); for (const x of rc.records) { const k = cls.get(x.funcId)!; const a = fc.get(k) ?? []; a.push(x.waitNs!); fc.set(k, a); }
console.log('cfs waits', [...fc].sort().map(([k, a]) => `c${k} ${(a.reduce((x, y) => x + y, 0) / a.length / 1e6).toFixed(1)}`).join(' '));
