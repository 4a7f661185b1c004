import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, createEmulator, StatusWords, SwFlag } from '../../../src/native/ghost.js';
import { AGENT_PID, makeRig, nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

test('ghostfs: version list, enclave creation retries past existing ids, unsupported ABI is ESRCH', { skip }, () => {
  const emu = createEmulator({ cpus: 2, versions: [84, 91] });
  const c = createClient({ emulator: emu, pid: 7 });
  assert.equal(c.present(), true);
  assert.deepEqual(c.versions(), [84, 91]);
  assert.equal(c.createEnclave(91), 1);
  assert.equal(c.createEnclave(84), 2);
  assert.throws(() => c.createEnclave(90), (e: NodeJS.ErrnoException) => e.code === 'ESRCH');
  c.attach(2);
  assert.equal(c.abiVersion(), 84);
  const d = createClient({ emulator: emu, pid: 7 });
  assert.throws(() => d.attach(1, 84), /enclave ABI 91 is not 84/);
  assert.throws(() => d.attach(9), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('ghostfs: a client without ghostfs reports absence instead of throwing', { skip }, () => {
  const c = createClient({ root: '/nonexistent/ghostfs' });
  assert.equal(c.present(), false);
  assert.throws(() => c.versions(), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('ghostfs: cpulist round-trips; a CPU of another enclave is EBUSY; tunables read back', { skip }, () => {
  const emu = createEmulator({ cpus: 8 });
  const a = createClient({ emulator: emu, pid: 1 });
  a.attach(a.createEnclave(91));
  a.setCpus([0, 1, 2, 5]);
  assert.deepEqual(a.cpus(), [0, 1, 2, 5]);
  const b = createClient({ emulator: emu, pid: 1 });
  b.attach(b.createEnclave(91));
  assert.throws(() => b.setCpus([5, 6]), (e: NodeJS.ErrnoException) => e.code === 'EBUSY');
  b.setCpus([6, 7]);
  assert.deepEqual(b.cpus(), [6, 7]);
  a.setTunable('runnable_timeout', 250);
  assert.equal(a.tunable('runnable_timeout'), 250);
  assert.throws(() => a.tunable('no_such_file'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('ghostfs: status-word region header, agent_online exclusivity and status text', { skip }, () => {
  const rig = makeRig({ cpus: 2, agents: false });
  const view = new StatusWords(rig.client.createSwRegion(0, 0)); // EEXIST tolerated
  assert.equal(view.capacity, 65534);
  assert.match(rig.client.status(), /active no/);
  rig.client.setOnline(true);
  assert.match(rig.client.status(), /active yes/);
  const other = createClient({ emulator: rig.emu, pid: 55 });
  other.attach(rig.enclaveId);
  assert.throws(() => other.setOnline(true), (e: NodeJS.ErrnoException) => e.code === 'EBUSY');
  rig.client.setOnline(false);
  other.setOnline(true);
  assert.equal(rig.emu.enclave(rig.enclaveId)?.online, true);
});

test('ghostfs: tasks admission (ESRCH for unknown, EALREADY tolerated), agent gets its status word', { skip }, () => {
  const rig = makeRig({ cpus: 2 });
  assert.throws(() => rig.client.enterTask(4242), (e: NodeJS.ErrnoException) => e.code === 'ESRCH');
  rig.emu.spawn(1, 300, true);
  rig.client.enterTask(300);
  rig.client.enterTask(300);
  assert.match(rig.client.status(), /nr_tasks 1/);
  const idx = rig.client.agentSwIndex(0);
  assert.ok(rig.sw.flags(idx) & SwFlag.TASK_IS_AGENT);
  assert.ok(rig.sw.flags(idx) & SwFlag.CPU_AVAIL);
});

test('ghostfs: an agent thread opening enclave files gets EDEADLK unless live_dangerously', { skip }, () => {
  const rig = makeRig({ cpus: 2 });
  // Files opened at attach keep working (status); a new open from the agent thread is refused.
  assert.match(rig.client.status(), /version 91/);
  assert.throws(() => rig.client.tunable('deliver_ticks'), (e: NodeJS.ErrnoException) => e.code === 'EDEADLK');
  const helper = createClient({ emulator: rig.emu, pid: AGENT_PID, tid: 999 });
  helper.attach(rig.enclaveId);
  helper.setTunable('live_dangerously', 1);
  assert.equal(rig.client.tunable('deliver_ticks'), 0);
});

test('ghostfs: become agent errors: EBUSY twice, ENODEV outside the enclave, EPERM without CAP_SYS_NICE', { skip }, () => {
  const rig = makeRig({ cpus: 4, agents: false });
  rig.client.setCpus([0, 1]);
  assert.equal(rig.client.becomeAgent(0, rig.queue), 0);
  const t2 = createClient({ emulator: rig.emu, pid: AGENT_PID, tid: AGENT_PID + 1 });
  t2.attach(rig.enclaveId);
  assert.equal(t2.becomeAgent(0, -1), -16 /* EBUSY */);
  assert.equal(t2.becomeAgent(3, -1), -19 /* ENODEV */);
  const emu = createEmulator({ cpus: 2, capSysNice: false });
  const c = createClient({ emulator: emu, pid: 3 });
  assert.equal(c.hasCapSysNice(), false);
  c.attach(c.createEnclave(91));
  c.setCpus([0, 1]);
  c.createSwRegion();
  c.setDefaultQueue(c.createQueue(16));
  assert.equal(c.becomeAgent(0, -1), -1 /* EPERM */);
});

test('ghostfs: destroy removes the enclave; its files are gone', { skip }, () => {
  const rig = makeRig({ cpus: 2, agents: false });
  rig.client.destroy();
  assert.equal(rig.emu.enclave(rig.enclaveId)?.alive, false);
  const again = createClient({ emulator: rig.emu, pid: 5 });
  assert.throws(() => again.attach(rig.enclaveId), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.throws(() => rig.client.cpus(), (e: NodeJS.ErrnoException) => e.code === 'ENODEV');
});
