// The agent's runqueue against a sorted-array model (pure TS; lives with the agent's tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RunQueue } from '../../../src/agent/ghost/runqueue.js';

type Op = { kind: 'push'; h: number; rank: number; key: number; front: boolean } | { kind: 'pop' } | { kind: 'remove'; h: number };

test('runqueue: pops in (rank, key, arrival) order under random push/pop/remove', () => {
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), h: fc.integer({ min: 1, max: 3000 }), rank: fc.integer({ min: 0, max: 3 }), key: fc.integer({ min: 0, max: 5 }), front: fc.boolean() }),
    fc.record({ kind: fc.constant('pop' as const) }),
    fc.record({ kind: fc.constant('remove' as const), h: fc.integer({ min: 1, max: 3000 }) }),
  );
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
      const rq = new RunQueue(4);
      let model: { h: number; rank: number; key: number; seq: number }[] = [];
      let seq = 0;
      for (const op of ops) {
        if (op.kind === 'push') {
          model = model.filter((m) => m.h !== op.h);
          model.push({ h: op.h, rank: op.rank, key: op.key, seq: op.front ? -++seq : ++seq });
          rq.push(op.h, op.rank, op.key, op.front);
        } else if (op.kind === 'remove') {
          assert.equal(rq.remove(op.h), model.some((m) => m.h === op.h));
          model = model.filter((m) => m.h !== op.h);
        } else {
          model.sort((a, b) => a.rank - b.rank || a.key - b.key || a.seq - b.seq);
          const want = model.shift();
          assert.equal(rq.pop(), want ? want.h : -1);
        }
        assert.equal(rq.size, model.length);
      }
    }),
    { numRuns: 300, seed: 3 },
  );
});
