import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Policy } from '../../../src/core/policy.js';
import type { Workload } from '../../../src/core/workload.js';
import { GhostAgent } from '../../../src/agent/ghost/agent.js';
import { runOnEmulator } from '../../support/emu-machine.js';
import { makeOrdering } from '../../../src/agent/ghost/ordering.js';
import { StaticResolver } from '../../../src/workload/funcs.js';
import { fifoAgent, makeRig, nativeSkipReason } from '../../support/ghost-rig.js';
import { createClient } from '../../../src/native/ghost.js';

const skip = nativeSkipReason();
const MS = 1_000_000;

function policy(generation: number, ranks: Record<number, number>, sliceNs = 0): Policy {
  return {
    generation,
    params: {} as Policy['params'],
    entries: Object.entries(ranks).map(([f, rank]) => ({ funcId: Number(f), rank, sliceNs })),
  };
}

/** n invocations, funcId 1..3 round-robin, CPU demand 5/10/15 ms, one short block in the middle. */
function mixed(n: number, gapNs: number): Workload {
  return {
    name: 'mixed',
    functions: [],
    invocations: Array.from({ length: n }, (_, i) => ({
      id: i,
      funcId: 1 + (i % 3),
      arrivalNs: i * gapNs,
      phases: [
        { kind: 'cpu' as const, ns: (1 + (i % 3)) * 5 * MS - MS },
        { kind: 'block' as const, ns: MS },
        { kind: 'cpu' as const, ns: MS },
      ],
    })),
  };
}

for (const kind of ['alps', 'cfs', 'fifo'] as const) {
  test(`agent (${kind}): every invocation completes through the emulated kernel; accounting matches`, { skip }, () => {
    const w = mixed(120, 2 * MS);
    const r = runOnEmulator(w, { cpus: 4, policy: kind, initialPolicy: policy(1, { 1: 1, 2: 2, 3: 3 }) });
    assert.equal(r.records.length, 120);
    assert.equal(r.agentRecords.length, 120);
    assert.deepEqual(r.stats.failures, {});
    assert.equal(r.destroyReason, '');
    for (const rec of r.records) {
      const spec = w.invocations[rec.id ?? -1];
      assert.ok(spec);
      assert.ok(rec.endNs - rec.arrivalNs >= ((1 + (spec.id % 3)) * 5 + 1) * MS - MS, `invocation ${spec.id} too fast`);
    }
    for (const rec of r.agentRecords) {
      const demand = [0, 5, 10, 15][rec.funcId] as number;
      assert.equal(rec.cpuNs, demand * MS, 'agent-measured CPU time equals the demand');
      assert.equal(rec.voluntarySwitches, 2, 'one block, one exit');
      assert.equal(rec.slicesNs?.reduce((a, b) => a + b, 0), rec.cpuNs);
    }
    if (kind === 'fifo') assert.equal(r.stats.preemptions, 0);
    else assert.ok(r.stats.preemptions > 0, 'slices are enforced by preemption');
  });
}

test('agent (alps): rank 1 is served before rank 2 at equal arrival; a new policy applies without pausing', { skip }, () => {
  const inv = (ids: number[], funcId: number) =>
    ids.map((id) => ({ id, funcId, arrivalNs: 0, phases: [{ kind: 'cpu' as const, ns: 10 * MS }] }));
  const w: Workload = { name: 'ranks', functions: [], invocations: [...inv([0, 1, 2, 3], 2), ...inv([4, 5, 6, 7], 1)] };
  const r = runOnEmulator(w, { cpus: 2, policy: 'alps', initialPolicy: policy(1, { 1: 1, 2: 2 }, 50 * MS) });
  const end = (id: number) => r.records.find((x) => x.id === id)?.endNs ?? NaN;
  const worstRank1 = Math.max(...[4, 5, 6, 7].map(end));
  const bestRank2 = Math.min(...[0, 1, 2, 3].map(end));
  assert.ok(worstRank1 <= bestRank2, `rank-1 work (${worstRank1}) finishes before rank-2 work (${bestRank2})`);
  const swapped = runOnEmulator(w, { cpus: 2, policy: 'alps', initialPolicy: policy(1, { 1: 2, 2: 1 }, 50 * MS) });
  const end2 = (id: number) => swapped.records.find((x) => x.id === id)?.endNs ?? NaN;
  assert.ok(Math.max(...[0, 1, 2, 3].map(end2)) <= Math.min(...[4, 5, 6, 7].map(end2)));
});

test('agent (alps): a strictly better-ranked arrival preempts inside the learned slice; an equal rank waits for it', { skip }, () => {
  // One CPU. A 100 ms rank-2 job starts first with a 200 ms learned slice; 5 ms later a 10 ms job
  // arrives. With rank 1 it runs at once (the rank order is the policy); with rank 2 the running
  // job's slice protects it and the newcomer finishes only after it.
  const w: Workload = {
    name: 'preempt',
    functions: [],
    invocations: [
      { id: 0, funcId: 2, arrivalNs: 0, phases: [{ kind: 'cpu', ns: 100 * MS }] },
      { id: 1, funcId: 1, arrivalNs: 5 * MS, phases: [{ kind: 'cpu', ns: 10 * MS }] },
    ],
  };
  const end = (r: ReturnType<typeof runOnEmulator>, id: number): number => r.records.find((x) => x.id === id)?.endNs ?? NaN;
  const better = runOnEmulator(w, { cpus: 1, policy: 'alps', initialPolicy: policy(1, { 1: 1, 2: 2 }, 200 * MS) });
  assert.ok(end(better, 1) < 20 * MS, `rank-1 arrival finished at ${end(better, 1) / MS} ms`);
  assert.ok(end(better, 0) > end(better, 1));
  const equal = runOnEmulator(w, { cpus: 1, policy: 'alps', initialPolicy: policy(1, { 1: 2, 2: 2 }, 200 * MS) });
  assert.ok(end(equal, 1) > end(equal, 0), `equal rank waits for the protected slice (${end(equal, 1) / MS} vs ${end(equal, 0) / MS} ms)`);
});

test('agent killed mid-run: runnable_timeout destroys the enclave and every invocation completes under CFS', { skip }, () => {
  const w = mixed(90, 1 * MS);
  const r = runOnEmulator(w, { cpus: 2, policy: 'alps', initialPolicy: policy(1, { 1: 1, 2: 2, 3: 3 }), runnableTimeoutMs: 30, killAgentAtNs: 40 * MS });
  assert.equal(r.destroyReason, 'runnable_timeout');
  assert.equal(r.records.length, 90, 'no invocation is lost');
  assert.ok(r.finishedUnderCfs > 0);
  assert.ok(r.agentRecords.length < 90);
  // Counted by the emulated kernel, not by the machine: it ran every program to its end, the
  // handed-back ones in its default class, with exactly the CPU work the workload asks for.
  const demand = (id: number): number => (w.invocations[id]?.phases ?? []).reduce((a, p) => a + (p.kind === 'cpu' ? p.ns : 0), 0);
  assert.equal(r.kernel.completed, 90);
  assert.equal(r.kernel.live, 0);
  assert.equal(r.kernel.killed, 0);
  assert.equal(r.kernel.completedUnderFair, r.finishedUnderCfs);
  assert.ok(r.kernel.fairNs > 0 && r.kernel.ghostNs > 0);
  assert.equal(r.kernel.cpuNs, w.invocations.reduce((a, inv) => a + demand(inv.id), 0));
  for (const rec of r.records) assert.equal(rec.cpuNs, demand(rec.id ?? -1), `invocation ${rec.id}: CPU time equals its demand, none redone`);
});

test('agent: a task whose status word is ahead of its token is deferred, never committed; busy CPUs are skipped', { skip }, () => {
  const rig = makeRig({ cpus: 3 });
  const funcs = new StaticResolver();
  const agent = new GhostAgent({
    client: rig.client,
    queue: rig.queue,
    sw: rig.sw,
    cpus: rig.cpus,
    globalCpu: 0,
    ordering: makeOrdering('cfs'),
    clock: () => rig.emu.now(),
    funcs,
  });
  rig.emu.setCpuBusy(1, true);
  rig.emu.spawn(1, 300, true);
  rig.client.enterTask(300);
  rig.emu.spawn(1, 301, true);
  rig.client.enterTask(301);
  assert.equal(agent.step(), 1, 'one idle CPU (2), CPU 1 is busy with a higher class');
  rig.emu.advance(0);
  const placed = rig.emu.cpu(2)?.current;
  const waiting = placed === 300 ? 301 : 300;
  assert.equal(rig.emu.thread(waiting)?.onCpu, -1);
  // Route the waiting task's messages to a queue the agent does not drain: its status-word
  // barrier moves past the agent's token, which must make the agent hold off, not commit.
  const q2 = rig.client.createQueue(16);
  const h = rig.client.internGtid(rig.emu.thread(waiting)?.gtid ?? '0');
  assert.ok(rig.client.assocQueue(q2, h, rig.sw.barrier(rig.client.taskSwIndex(h))) >= 0);
  rig.emu.setNice(waiting, 1);
  rig.emu.setCpuBusy(1, false);
  assert.equal(agent.step(), 0);
  assert.equal(agent.step(), 0);
  assert.equal(agent.stats.deferred, 2);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(waiting)?.onCpu, -1);
  assert.deepEqual(agent.stats.failures, {});
});

test('agent: recovers from NO_AGENT (a CPU whose agent died) and from a slot it could not open', { skip }, () => {
  const rig = makeRig({ cpus: 3, agents: false });
  // CPU 1's satellite lives in the agent process; CPU 2's in another process that will die.
  for (const [cpu, pid] of [[1, 100], [2, 200]] as const) {
    const s = createClient({ emulator: rig.emu, pid, tid: pid + cpu });
    s.attach(rig.enclaveId);
    assert.equal(s.becomeAgent(cpu, -1), 0);
    assert.equal(s.run(0, rig.sw.barrier(s.agentSwIndex(cpu)), cpu), 0);
  }
  assert.equal(rig.client.becomeAgent(0, rig.queue), 0);
  const agent = fifoAgent(rig);
  // CPU 1's txn slot is still READY from an earlier (say, greedy) commit: it cannot be reopened.
  const slots = new Int32Array(rig.client.cpuDataView());
  slots[1 * 1024 + 2] = 0x7fffffff;
  rig.emu.killProcess(200);
  for (const tid of [300, 301]) {
    rig.emu.spawn(1, tid, true);
    rig.client.enterTask(tid);
  }
  assert.equal(agent.step(), 0);
  assert.equal(agent.stats.failures.NO_AGENT, 1);
  assert.equal(agent.stats.failures.NOT_OPENED, 1);
  slots[1 * 1024 + 2] = -2147483648; // the old txn completed
  assert.equal(agent.step(), 1, 'retried on the next pass, on the CPU that still has an agent');
  rig.emu.advance(0);
  assert.equal(rig.emu.cpu(1)?.current !== 0, true);
  assert.equal(rig.emu.cpu(2)?.current, 0, 'nothing is placed on the agentless CPU');
  assert.equal(agent.step(), 0);
});
