import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOnEmulator } from '../support/emu-machine.js';
import { nativeSkipReason } from '../support/ghost-rig.js';
import { conformance, orderFromRecords, scenarioPolicy, scenarioWorkload, type Scenario } from './scenarios.js';

/** (b) The ghOSt agent (ALPS ordering) on the emulated ghOSt kernel: one task CPU plus the agent's. */
function runGhost(s: Scenario): string[] {
  const r = runOnEmulator(scenarioWorkload(s), { cpus: 1, policy: 'alps', initialPolicy: scenarioPolicy(s) });
  if (r.destroyReason) throw new Error(`enclave destroyed: ${r.destroyReason}`);
  return orderFromRecords(s, r.records);
}

test('conformance: the ghOSt agent on the emulated kernel follows the ALPS rule on every scenario', { skip: nativeSkipReason() ?? false }, (t) => {
  const { passed, total, line } = conformance('ghost', runGhost, (s, p) => t.diagnostic(`${s.name}: ${p || 'ok'}`));
  console.log(line);
  assert.equal(passed, total, line);
});
