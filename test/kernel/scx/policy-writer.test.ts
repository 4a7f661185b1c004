/**
 * PolicyWriter against in-memory map fakes (no kernel needed): every value is validated
 * before any map operation, a generation lands in the inactive half in one batch, and only
 * then does the control word flip; ranks are compressed preserving order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../../src/core/errors.js';
import { validatePolicy, type Policy, type PolicyEntry } from '../../../src/core/policy.js';
import { resolveParams } from '../../../src/learner/params.js';
import { CTL_BYTES, POLICY_ENTRY_BYTES, decodeCtl, encodeCtl } from '../../../src/native/bpf.js';
import { KERNEL_POLICY_LIMITS, PolicyWriter, denseRanks, type CtlMap, type PolicyMap } from '../../../src/agent/scx/policy-writer.js';

/** A hash map of Buffers plus an operation log. */
class FakeMaps {
  readonly ops: string[] = [];
  readonly policy = new Map<string, Buffer>();
  ctl = encodeCtl({ activeHalf: 0, stallDispatch: 0, generation: 0, defaultSliceNs: 5e6, functions: 0 });
  readonly policyMap: PolicyMap = {
    keys: () => [...this.policy.keys()].map((k) => Buffer.from(k, 'hex')),
    delete: (k) => {
      this.ops.push('delete');
      return this.policy.delete(Buffer.from(k).toString('hex'));
    },
    updateBatch: (keys, values, count) => {
      this.ops.push(`batch:${count}`);
      for (let i = 0; i < count; i++) {
        this.policy.set(Buffer.from(keys.subarray(8 * i, 8 * i + 8)).toString('hex'), Buffer.from(values.subarray(POLICY_ENTRY_BYTES * i, POLICY_ENTRY_BYTES * (i + 1))));
      }
    },
  };
  readonly ctlMap: CtlMap = {
    lookup: () => Buffer.from(this.ctl),
    update: (_k, v) => {
      assert.equal(v.length, CTL_BYTES);
      this.ops.push('ctl');
      this.ctl = Buffer.from(v);
    },
  };
  /** What the scheduler would read for funcId: [rank, sliceNs] from the active half. */
  read(funcId: number): [number, number] | undefined {
    const half = decodeCtl(this.ctl).activeHalf;
    const k = Buffer.alloc(8);
    k.writeUInt32LE(funcId, 0);
    k.writeUInt32LE(half, 4);
    const v = this.policy.get(k.toString('hex'));
    return v && v.readUInt32LE(4) === 1 ? [v.readUInt32LE(0), Number(v.readBigUInt64LE(8))] : undefined;
  }
}

const params = resolveParams({});
const pol = (generation: number, entries: PolicyEntry[]): Policy => ({ generation, params, entries });

test('a generation goes to the inactive half, then the control word flips', () => {
  const f = new FakeMaps();
  const w = new PolicyWriter(f.policyMap, f.ctlMap);
  assert.deepEqual(w.write(pol(1, [{ funcId: 7, rank: 3, sliceNs: 2e6 }, { funcId: 9, rank: 1, sliceNs: 0 }])), { generation: 1, half: 1, entries: 2 });
  assert.deepEqual(f.ops, ['batch:2', 'ctl']);
  assert.deepEqual(f.read(7), [2, 2e6]); // ranks {1,3} compress to {1,2}
  assert.deepEqual(f.read(9), [1, 0]);
  f.ops.length = 0;
  w.write(pol(2, [{ funcId: 9, rank: 5, sliceNs: 1e6 }]));
  assert.deepEqual(f.ops, ['batch:1', 'ctl']);
  assert.equal(f.read(7), undefined, 'half 0 never held funcId 7');
  f.ops.length = 0;
  w.write(pol(3, [{ funcId: 4, rank: 1, sliceNs: 0 }]));
  assert.deepEqual(f.ops, ['delete', 'delete', 'batch:1', 'ctl'], 'stale keys of the half being reused are removed first');
  assert.equal(f.read(7), undefined);
  assert.equal(f.read(9), undefined);
  assert.deepEqual(f.read(4), [1, 0]);
  assert.equal(decodeCtl(f.ctl).generation, 3);
});

test('invalid values are rejected with InputError naming entry and field; no map is touched', () => {
  const bad: [PolicyEntry[], RegExp][] = [
    [[{ funcId: 0, rank: 1, sliceNs: 0 }], /entries\[0\] \(funcId 0\)\.funcId/],
    [[{ funcId: 5, rank: 0, sliceNs: 0 }], /entries\[0\] \(funcId 5\)\.rank/],
    [[{ funcId: 5, rank: 1.5, sliceNs: 0 }], /\.rank/],
    [[{ funcId: 5, rank: 1, sliceNs: -1 }], /\.sliceNs/],
    [[{ funcId: 5, rank: 1, sliceNs: 2e10 }], /\.sliceNs/],
    [[{ funcId: 5, rank: 1, sliceNs: 0 }, { funcId: 5, rank: 2, sliceNs: 0 }], /entries\[1\].*appears twice/],
    [[{ funcId: 2 ** 32, rank: 1, sliceNs: 0 }], /\.funcId/],
  ];
  for (const [entries, re] of bad) {
    const f = new FakeMaps();
    const w = new PolicyWriter(f.policyMap, f.ctlMap);
    assert.throws(() => w.write(pol(1, entries)), (e: unknown) => e instanceof InputError && re.test(e.message));
    assert.deepEqual(f.ops, [], `nothing written for ${JSON.stringify(entries)}`);
  }
  const f = new FakeMaps();
  const w = new PolicyWriter(f.policyMap, f.ctlMap);
  w.write(pol(4, [{ funcId: 5, rank: 1, sliceNs: 0 }]));
  f.ops.length = 0;
  assert.throws(() => w.write(pol(4, [])), /policy\.generation: 4 is not newer/);
  assert.deepEqual(f.ops, []);
});

test('property: dense ranks preserve order and equality; the active half always reads one whole generation', () => {
  const entry = fc.record({ funcId: fc.integer({ min: 1, max: 50 }), rank: fc.integer({ min: 1, max: 2 ** 32 - 1 }), sliceNs: fc.integer({ min: 0, max: 1e10 }) });
  const policyArb = fc.uniqueArray(entry, { selector: (e) => e.funcId, maxLength: 20 });
  fc.assert(
    fc.property(fc.array(policyArb, { minLength: 1, maxLength: 5 }), (gens) => {
      const f = new FakeMaps();
      const w = new PolicyWriter(f.policyMap, f.ctlMap);
      gens.forEach((entries, g) => {
        w.write(pol(g + 1, entries));
        const dense = denseRanks(entries.map((e) => e.rank));
        for (let id = 1; id <= 50; id++) {
          const e = entries.find((x) => x.funcId === id);
          const got = f.read(id);
          if (!e) assert.equal(got, undefined, `funcId ${id} is not in generation ${g + 1}`);
          else assert.deepEqual(got, [dense.get(e.rank), e.sliceNs]);
        }
        for (const a of entries) for (const b of entries) assert.equal(Math.sign(dense.get(a.rank)! - dense.get(b.rank)!), Math.sign(a.rank - b.rank));
      });
    }),
    { numRuns: 100, seed: 42 },
  );
});

test('validatePolicy accepts the learner range', () => {
  validatePolicy(pol(0, [{ funcId: 2 ** 32 - 1, rank: 2 ** 32 - 1, sliceNs: 1e10 }]), KERNEL_POLICY_LIMITS);
});
