import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/core/index.js';
import { applyMachine, DEFAULT_MACHINE, formatMachineFile, MACHINE_FORMAT, readMachineFile, simulate } from '../../../src/sim/index.js';
import { EevdfModel } from '../../../src/sim/models/eevdf.js';
import { MS, cpu, workload } from '../../support/sim.js';

const GOOD = { format: MACHINE_FORMAT, hz: 250, ctxSwitchNs: 20_000, launchCpuNs: 4 * MS, cpuCapacity: 0.9, backgroundLoad: 0.1, baseSliceNs: 700_000 };
const dir = mkdtempSync(join(tmpdir(), 'machine-file-'));
const file = (name: string, body: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};

/** The InputError `fn` throws, checked to name the file. */
function inputError(fn: () => unknown, path: string): InputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.equal(e.input, `machine ${path}`);
    return e;
  }
  assert.fail('no error');
}

test('a machine file round-trips through formatMachineFile and readMachineFile', () => {
  const { format: _f, ...profile } = GOOD;
  const p = file('ok.json', formatMachineFile(profile, 'test host', { cpus: 2 }));
  const m = readMachineFile(p);
  assert.deepEqual({ ...m, description: undefined, provenance: undefined }, { ...GOOD, description: undefined, provenance: undefined });
  assert.equal(m.description, 'test host');
  assert.deepEqual(m.provenance, { cpus: 2 });
});

test('bad machine files name the file and every bad field', () => {
  const p = file('bad.json', { ...GOOD, ctxSwitchNs: -1, cpuCapacity: 0, backgroundLoad: 1, extra: 1 });
  const e = inputError(() => readMachineFile(p), p);
  for (const field of ['ctxSwitchNs', 'cpuCapacity', 'backgroundLoad', 'extra: unknown field']) assert.match(e.problem, new RegExp(field));
  const { baseSliceNs: _b, ...noSlice } = GOOD;
  const q = file('missing.json', noSlice);
  assert.match(inputError(() => readMachineFile(q), q).problem, /^baseSliceNs: is required$/);
  const v = file('version.json', { ...GOOD, format: 'ghost-alps-machine/0' });
  assert.match(inputError(() => readMachineFile(v), v).problem, /format: must be "ghost-alps-machine\/1"/);
  const hz = file('hz.json', { ...GOOD, hz: 250.5 });
  assert.match(inputError(() => readMachineFile(hz), hz).problem, /^hz: must be integer$/);
  const j = file('syntax.json', '{"hz": ');
  assert.match(inputError(() => readMachineFile(j), j).problem, /^not JSON/);
  const none = join(dir, 'absent.json');
  assert.equal(inputError(() => readMachineFile(none), none).problem, 'no such file');
});

test('simulate rejects a bad profile handed to it directly, by the same schema', () => {
  const w = workload([{ at: 0, phases: [cpu(MS)] }]);
  assert.throws(() => simulate(w, { cpus: 1, scheduler: 'eevdf', seed: 1, machine: { ...DEFAULT_MACHINE, hz: 5 } }), /machine options\.machine: hz/);
});

test('applyMachine: launch CPU first, demands stretched by capacity × (1 − background), block phases kept', () => {
  const w = workload([{ at: 0, phases: [cpu(9 * MS), { kind: 'block', ns: 5 * MS }, cpu(MS)] }]);
  assert.equal(applyMachine(w, DEFAULT_MACHINE), w);
  const m = applyMachine(w, { ...DEFAULT_MACHINE, launchCpuNs: 3 * MS, cpuCapacity: 0.8, backgroundLoad: 0.25 });
  assert.deepEqual(m.invocations[0]!.phases, [cpu(4 * MS), cpu(15 * MS), { kind: 'block', ns: 5 * MS }, cpu(Math.round(MS / 0.6))]);
});

test('the default machine reproduces the simulator without a file, bit for bit', () => {
  const w = workload(Array.from({ length: 40 }, (_, i) => ({ at: i * 3 * MS, phases: [cpu(((i % 7) + 1) * 2 * MS)] })));
  for (const scheduler of ['eevdf', 'cfs', 'alps']) {
    const a = simulate(w, { cpus: 2, scheduler, seed: 3 });
    const b = simulate(w, { cpus: 2, scheduler, seed: 3, machine: { ...DEFAULT_MACHINE } });
    assert.deepEqual(b.records, a.records, scheduler);
  }
});

test('the machine reaches the model: base slice, context-switch cost and launch cost change a run', () => {
  assert.equal(new EevdfModel(2, 700_000).baseSliceNs, 1_400_000);
  const w = workload([0, 0].map(() => ({ at: 0, phases: [cpu(100 * MS)] })));
  const base = { cpus: 1, scheduler: 'eevdf', seed: 4, hz: 1000 } as const;
  const slices = (m: typeof DEFAULT_MACHINE): number[] => simulate(w, { ...base, machine: m }).records.flatMap((x) => x.slicesNs!.slice(1, -1));
  const wide = slices({ ...DEFAULT_MACHINE, ctxSwitchNs: 0, baseSliceNs: 3 * MS });
  assert.ok(wide.every((x) => x >= 3 * MS), `slices ${wide.slice(0, 5).map((x) => x / MS).join(', ')} ms`);
  const end = (m: typeof DEFAULT_MACHINE): number => Math.max(...simulate(w, { ...base, machine: m }).records.map((r) => r.endNs));
  const quick = end({ ...DEFAULT_MACHINE, ctxSwitchNs: 0 });
  assert.equal(quick, 200 * MS);
  assert.ok(end({ ...DEFAULT_MACHINE, ctxSwitchNs: 100_000 }) > quick + 10 * MS);
  assert.equal(end({ ...DEFAULT_MACHINE, ctxSwitchNs: 0, launchCpuNs: 5 * MS }), 210 * MS);
  // hz on SimOptions overrides the file's.
  assert.equal(simulate(w, { ...base, hz: 100, machine: { ...DEFAULT_MACHINE, hz: 1000 } }).records.length, 2);
});
