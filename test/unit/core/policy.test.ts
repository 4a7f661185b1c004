import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../../src/core/errors.js';
import { MAX_POLICY_RANK, MAX_POLICY_SLICE_NS, POLICY_LIMITS, validatePolicy, type Policy, type PolicyEntry } from '../../../src/core/policy.js';
import { resolveParams } from '../../../src/learner/params.js';
import { makeOrdering } from '../../../src/agent/ghost/ordering.js';
import { KERNEL_POLICY_LIMITS } from '../../../src/agent/scx/policy-writer.js';
import { parseServerMessage } from '../../../src/telemetry/schema.js';
import { ALPS_POLICY_MAX } from '../../../src/native/bpf.js';

const pol = (generation: number, entries: PolicyEntry[]): Policy => ({ generation, params: resolveParams(), entries });

/** The error thrown, asserting it is an InputError. */
function failure(fn: () => void): InputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a throw');
}

test('validatePolicy accepts the whole range the learner emits', () => {
  validatePolicy(pol(0, []));
  validatePolicy(pol(7, [
    { funcId: 1, rank: 1, sliceNs: 0 },
    { funcId: 2 ** 32 - 1, rank: MAX_POLICY_RANK, sliceNs: MAX_POLICY_SLICE_NS },
  ]));
});

test('validatePolicy names the field and the bound it broke', () => {
  const cases: [unknown, string, RegExp][] = [
    [null, 'policy', /must be a policy object/],
    [{ ...pol(1, []), generation: -1 }, 'policy.generation', /non-negative integer, got -1/],
    [{ ...pol(1, []), generation: 1.5 }, 'policy.generation', /non-negative integer/],
    [{ generation: 1, entries: [] }, 'policy.params', /must be an object/],
    [{ ...pol(1, []), entries: {} }, 'policy.entries', /must be an array/],
    [pol(1, [7 as unknown as PolicyEntry]), 'policy.entries[0]', /must be an object, got 7/],
    [pol(1, [{ funcId: 0, rank: 1, sliceNs: 0 }]), 'policy.entries[0] (funcId 0).funcId', /1\.\.4294967295/],
    [pol(1, [{ funcId: 3, rank: 0, sliceNs: 0 }]), 'policy.entries[0] (funcId 3).rank', /integer in 1\.\.4294967295, got 0/],
    [pol(1, [{ funcId: 3, rank: 2.5, sliceNs: 0 }]), 'policy.entries[0] (funcId 3).rank', /got 2\.5/],
    [pol(1, [{ funcId: 3, rank: 1, sliceNs: -1 }]), 'policy.entries[0] (funcId 3).sliceNs', /0\.\.10000000000 ns/],
    [pol(1, [{ funcId: 3, rank: 1, sliceNs: MAX_POLICY_SLICE_NS + 1 }]), 'policy.entries[0] (funcId 3).sliceNs', /got 10000000001/],
    [pol(1, [{ funcId: 3, rank: 1, sliceNs: 0 }, { funcId: 3, rank: 2, sliceNs: 0 }]), 'policy.entries[1] (funcId 3).funcId', /appears twice/],
  ];
  for (const [policy, input, problem] of cases) {
    const e = failure(() => validatePolicy(policy));
    assert.equal(e.input, input, JSON.stringify(policy));
    assert.match(e.problem, problem);
  }
});

test('named limits: a table size, a generation floor, a caller-chosen prefix', () => {
  const many = Array.from({ length: ALPS_POLICY_MAX + 1 }, (_, i) => ({ funcId: i + 1, rank: 1, sliceNs: 0 }));
  validatePolicy(pol(1, many));
  const e = failure(() => validatePolicy(pol(1, many), KERNEL_POLICY_LIMITS));
  assert.equal(e.input, 'policy.entries');
  assert.match(e.problem, new RegExp(`at most ${ALPS_POLICY_MAX}`));
  validatePolicy(pol(5, []), { ...POLICY_LIMITS, afterGeneration: 4 });
  assert.match(failure(() => validatePolicy(pol(4, []), { ...POLICY_LIMITS, afterGeneration: 4 })).message, /policy\.generation: 4 is not newer than the active generation 4/);
  assert.equal(failure(() => validatePolicy(pol(1, [{ funcId: 1, rank: 0, sliceNs: 0 }]), POLICY_LIMITS, 'message.policy')).input, 'message.policy.entries[0] (funcId 1).rank');
});

test('the ghOSt agent ordering applies a policy whole or not at all', () => {
  const o = makeOrdering('alps');
  o.setPolicy(pol(1, [{ funcId: 4, rank: 2, sliceNs: 5_000_000 }]));
  assert.throws(() => o.setPolicy(pol(2, [{ funcId: 4, rank: 1, sliceNs: 0 }, { funcId: 5, rank: 1, sliceNs: 0.5 }])), /entries\[1\] \(funcId 5\)\.sliceNs/);
  assert.equal(o.generation, 1);
  assert.equal(o.rank(4), 2);
  assert.equal(o.sliceNs(4), 5_000_000);
});

test('the telemetry schema checks a published policy and a pin with the same bounds', () => {
  const frame = (policy: unknown): unknown => ({ v: 1, type: 'policy', atNs: 0, policy });
  parseServerMessage(frame(pol(1, [{ funcId: 1, rank: MAX_POLICY_RANK, sliceNs: MAX_POLICY_SLICE_NS }])));
  assert.equal(failure(() => parseServerMessage(frame(pol(1, [{ funcId: 1, rank: 1, sliceNs: MAX_POLICY_SLICE_NS + 1 }])))).input, 'message.policy.entries[0] (funcId 1).sliceNs');
});
