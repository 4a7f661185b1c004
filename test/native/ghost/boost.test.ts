/**
 * BOOST_PRIO on the emulated kernel: a CFS task needs the global agent's CPU. As in
 * ghost-userspace's centralized FIFO (PickNextGlobalCPU), the global role moves to another enclave
 * CPU — the nearest by topology, an idle one first, never one that is itself boosted or busy with
 * CFS — the CFS task gets the CPU, and scheduling goes on from the new global CPU; the old one
 * becomes a worker once CFS leaves it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SwFlag } from '../../../src/native/ghost.js';
import { GhostAgent } from '../../../src/agent/ghost/agent.js';
import { emulatedMoveGlobal } from '../../../src/agent/ghost/emulated.js';
import { AGENT_PID, fifoAgent, makeRig, nativeSkipReason, type Rig } from '../../support/ghost-rig.js';
import type { CpuTopology } from '../../../src/agent/ghost/topology.js';

const skip = nativeSkipReason();

function agentOn(rig: Rig, topology?: Map<number, CpuTopology>): GhostAgent {
  return fifoAgent(rig, { moveGlobal: emulatedMoveGlobal(rig.client, rig.sw, (c) => AGENT_PID + c), ...(topology ? { topology } : {}) });
}

function enter(rig: Rig, tid: number): void {
  rig.emu.spawn(1, tid, true);
  rig.client.enterTask(tid);
}

test('BOOST_PRIO: the global agent moves off a CPU a CFS task needs; scheduling continues from the new CPU', { skip }, () => {
  const rig = makeRig({ cpus: 4 });
  const agent = agentOn(rig);
  agent.step(); // becomes the global agent (its status word is found on the first pass)
  enter(rig, 300);
  assert.equal(agent.step(), 1);
  rig.emu.advance(0);
  const cpuOf300 = rig.emu.thread(300)?.onCpu ?? -1;
  assert.ok(cpuOf300 > 0, 'task 300 placed');

  rig.emu.setCpuBusy(0, true);
  rig.emu.advance(0);
  const globalSw = rig.client.agentSwIndex(0);
  assert.ok(rig.sw.flags(globalSw) & SwFlag.BOOST_PRIO, 'the spinning global agent holds CPU 0 a CFS task wants');

  agent.step();
  rig.emu.advance(0);
  assert.equal(agent.stats.globalMoves, 1, 'the global role moved');
  const g = agent.globalCpu;
  assert.notEqual(g, 0);
  assert.notEqual(g, cpuOf300, 'an idle CPU is taken before one running a task');
  assert.equal(rig.emu.cpu(0)?.blockedInRun, true, "CPU 0's agent is parked: the CFS task has the CPU");
  assert.equal(rig.sw.flags(globalSw) & SwFlag.BOOST_PRIO, 0);
  assert.equal(rig.emu.cpu(g)?.blockedInRun, false, "the new global CPU's agent is on its CPU");

  // Scheduling goes on: a new task is placed on the remaining worker, not on CPU 0 (CFS) nor g.
  enter(rig, 301);
  assert.equal(agent.step(), 1, 'a decision while CPU 0 is busy with CFS');
  rig.emu.advance(0);
  const cpuOf301 = rig.emu.thread(301)?.onCpu ?? -1;
  assert.ok(cpuOf301 > 0 && cpuOf301 !== g && cpuOf301 !== cpuOf300, `task 301 on a worker (got ${cpuOf301})`);
  assert.deepEqual(agent.stats.failures, {});

  // CFS leaves CPU 0: it is a worker now, and the next task runs there.
  rig.emu.setCpuBusy(0, false);
  rig.emu.advance(0);
  enter(rig, 302);
  assert.equal(agent.step(), 1);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(302)?.onCpu, 0, 'the old global CPU runs tasks');
  assert.equal(rig.emu.thread(300)?.onCpu, cpuOf300, 'nothing running was disturbed');
  assert.deepEqual(agent.stats.failures, {});
});

const SIBLINGS_0_3 = new Map<number, CpuTopology>([
  [0, { core: 0, llc: 0 }],
  [1, { core: 1, llc: 0 }],
  [2, { core: 1, llc: 0 }],
  [3, { core: 0, llc: 0 }],
]);

test('BOOST_PRIO: the role goes to the global CPU\'s SMT sibling first', { skip }, () => {
  const rig = makeRig({ cpus: 4 });
  const agent = agentOn(rig, SIBLINGS_0_3);
  agent.step();
  rig.emu.setCpuBusy(0, true);
  rig.emu.advance(0);
  agent.step();
  assert.equal(agent.stats.globalMoves, 1);
  assert.equal(agent.globalCpu, 3, 'CPU 3 shares CPU 0\'s core (1 and 2 come first numerically)');
});

test('BOOST_PRIO: the role goes to a sibling first, never to a CPU busy with CFS; none available: the agent yields', { skip }, () => {
  const rig = makeRig({ cpus: 4 });
  const agent = agentOn(rig, SIBLINGS_0_3); // cores {0,3} and {1,2}, one LLC
  agent.step();
  rig.emu.setCpuBusy(3, true); // the sibling is busy with CFS: not a candidate
  rig.emu.setCpuBusy(0, true);
  rig.emu.advance(0);
  agent.step();
  assert.equal(agent.globalCpu, 1, 'the sibling (3) is busy: the nearest available CPU in the LLC');
  rig.emu.setCpuBusy(3, false);
  rig.emu.setCpuBusy(0, false);
  rig.emu.advance(0);
  // Now CFS wants CPU 1 while every other CPU is busy with CFS too: nowhere to go, so it yields.
  for (const c of [0, 2, 3]) rig.emu.setCpuBusy(c, true);
  rig.emu.setCpuBusy(1, true);
  rig.emu.advance(0);
  agent.step();
  assert.equal(agent.stats.globalMoves, 1);
  assert.equal(agent.globalCpu, 1);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, true, 'parked in RUN: CPU 1 goes to CFS');

  rig.emu.setCpuBusy(3, false);
  rig.emu.advance(0);
  // Topology preference: from CPU 1 its sibling 2 would come first, but 2 is busy; 3 is free.
  rig.emu.setCpuBusy(1, false);
  rig.emu.advance(0);
  agent.step();
  rig.emu.setCpuBusy(1, true);
  rig.emu.advance(0);
  agent.step();
  assert.equal(agent.stats.globalMoves, 2);
  assert.equal(agent.globalCpu, 3);
});
