/**
 * `ghost-alps calibrate` in the sched_ext VM, kept small (40 invocations, one replay: two boots,
 * a few minutes under TCG): the probes read the guest's tick rate and base slice, the measured
 * per-invocation CPU reaches the file, and the written machine file passes its own validation.
 * Skips without the VM. What it does not check: that the fit is *good* — that needs quiet-host
 * runs of realistic size (docs/reproduction.md, "Calibrated machine").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bpfArtifact } from '../../../src/native/bpf.js';
import { vmAvailability } from '../../../src/vm/index.js';
import { calibrateMachine } from '../../../src/harness/real/calibrate-machine.js';
import { vmRunner } from '../../../src/harness/real/calibrated-ab.js';
import { formatMachineFile, readMachineFile } from '../../../src/sim/index.js';
import { writeFileSync } from 'node:fs';

const avail = await vmAvailability();
const invoke = join(dirname(bpfArtifact('alps-loader')), 'alps-invoke');
const skip = !avail.ok ? avail.reason : !existsSync(invoke) ? 'ghost-kernel/bpf not built (make -C ghost-kernel/bpf)' : false;

test('calibrate in the VM: measured HZ and base slice, a positive launch cost, a valid machine file', { skip, timeout: 600_000 }, async () => {
  const c = await calibrateMachine({ mix: 'huawei', invocations: 40, cpus: 2, load: 0.8, scale: 0.5, seed: 3, repetitions: 1, run: await vmRunner(2), grid: { ctxSwitchNs: [2_000, 30_000], cpuCapacity: [0.6, 0.8, 1] } });
  // Debian's kernel: CONFIG_HZ=250; EEVDF's base slice is 0.7 ms per CPU (×2 at 2 CPUs).
  assert.equal(c.calibration.hz, 250);
  assert.ok(c.calibration.baseSliceNs !== undefined && c.calibration.baseSliceNs > 0, 'debugfs base slice read');
  assert.equal(c.fit.machine.baseSliceNs * 2, c.calibration.baseSliceNs);
  // The fork/exit cost is measured, not assumed (it can come out 0 when a busy host skews /proc/stat).
  assert.equal(c.fit.machine.launchCpuNs, Math.round(c.calibration.overheadNs));
  assert.ok(Number.isFinite(c.fit.error) && c.fit.error <= c.fit.unfittedError);
  const p = join(mkdtempSync(join(tmpdir(), 'cal-')), 'm.json');
  writeFileSync(p, formatMachineFile(c.fit.machine, 'test', c.provenance));
  assert.deepEqual({ ...readMachineFile(p), description: undefined, provenance: undefined, format: undefined }, { ...c.fit.machine, description: undefined, provenance: undefined, format: undefined });
});
