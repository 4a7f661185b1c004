import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Policy } from '../../../src/core/policy.js';
import type { Workload } from '../../../src/core/workload.js';
import { simulate } from '../../../src/sim/index.js';
import { EmulatedGhostAgent } from '../../../src/agent/ghost/sim-agent.js';
import { nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();
const MS = 1_000_000;

/** 800 invocations of three functions (5/10/15 ms with a 1 ms block) at ~115% load on 8 CPUs. */
function overloaded(): Workload {
  return {
    name: 'overloaded',
    functions: [1, 2, 3].map((f) => ({ funcId: f, name: `f${f}`, app: 'fib', group: 1 as const })),
    invocations: Array.from({ length: 800 }, (_, i) => ({
      id: i,
      funcId: 1 + (i % 3),
      arrivalNs: Math.round(i * 1.1 * MS),
      phases: [
        { kind: 'cpu' as const, ns: (1 + (i % 3)) * 5 * MS - MS },
        { kind: 'block' as const, ns: MS },
        { kind: 'cpu' as const, ns: MS },
      ],
    })),
  };
}

const RANKS: Policy = {
  generation: 1,
  params: {} as Policy['params'],
  entries: [1, 2, 3].map((f) => ({ funcId: f, rank: f, sliceNs: 0 })),
};

function meanTurnaround(records: { funcId: number; arrivalNs: number; endNs: number }[], funcId: number): number {
  const r = records.filter((x) => x.funcId === funcId);
  return r.reduce((a, x) => a + x.endNs - x.arrivalNs, 0) / r.length;
}

test('simulation in the loop: the real agent on the emulated kernel drives the simulated machine', { skip }, () => {
  const w = overloaded();
  const results = new Map<string, ReturnType<typeof simulate>>();
  for (const agent of [new EmulatedGhostAgent('alps', { initialPolicy: RANKS }), new EmulatedGhostAgent('cfs'), new EmulatedGhostAgent('fifo')]) {
    const r = simulate(w, { cpus: 8, scheduler: agent.name, seed: 1 }, { agent });
    assert.equal(r.records.length, w.invocations.length, `${agent.name}: every invocation completes`);
    assert.equal(agent.divergences, 0, `${agent.name}: ${agent.firstDivergence}`);
    assert.deepEqual(agent.stats.failures, {});
    results.set(agent.name, r);
  }
  const alps = results.get('alps-ghost');
  const fifo = results.get('ghost-fifo');
  const cfs = results.get('ghost-cfs');
  assert.ok(alps && fifo && cfs);
  // Rank 1 (the 5 ms function) is served first: its turnaround collapses versus FIFO and CFS.
  assert.ok(meanTurnaround(alps.records, 1) < 0.5 * meanTurnaround(fifo.records, 1));
  assert.ok(meanTurnaround(alps.records, 1) < 0.5 * meanTurnaround(cfs.records, 1));
  assert.ok(cfs.contextSwitches > fifo.contextSwitches, 'ghost-cfs preempts on its slice, FIFO never does');
});
