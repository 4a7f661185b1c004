import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { SimBackend } from '../../../src/repl/backend.js';
import { startRepl } from '../../../src/repl/repl.js';
import { smallSession } from '../../support/telemetry.js';

/** Run a REPL script against an embedded session; return everything it printed. */
async function script(lines: string[]): Promise<{ out: string; backend: SimBackend }> {
  const backend = new SimBackend(smallSession({ invocations: 3000 }), 'test');
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d) => (out += String(d)));
  const done = startRepl(backend, { input, output, terminal: false });
  input.end(lines.map((l) => `${l}\n`).join(''));
  await done;
  return { out, backend };
}

test('scripted session: read the policy, change α, and see the next generation carry it', async () => {
  const { out, backend } = await script(['.step 6', '.policy', '.set alpha 3', '.next', 'policy.params.alpha', 'learner.params.alpha']);
  assert.match(out, /generation 1 installed at 5\.0 s: α=2 /);
  assert.match(out, /ok: alpha=3 applies from the next generation \(after 1\)/);
  assert.match(out, /generation 2 installed at [\d.]+ s: α=3 /);
  // The context object `policy` is live: it already is generation 2.
  assert.match(out, /alps> 3\n/);
  assert.equal(backend.session.policy!.params.alpha, 3);
  assert.equal(backend.session.policies[0]!.policy.params.alpha, 2);
});

test('pin, top, funcs, pause and bad commands', async () => {
  const { out, backend } = await script(['.step 6', '.pin fib1 rank=1 slice=12ms', '.next', '.top', '.funcs', '.pause', '.set alpha -1', '.pin nosuch rank=1', '.step 0']);
  assert.match(out, /ok: fib1 pinned \(rank=1 sliceNs=12000000\)/);
  assert.match(out, /\nfib1 +1 +1 +1 +12\.0\n/, 'the pinned function heads the policy with its slice');
  assert.match(out, /throughput=[\d.]+\/s/);
  assert.match(out, /function +id +app +group +done +mean ms +p99 ms/);
  assert.match(out, /learning paused/);
  assert.match(out, /error: learner parameter alpha: must be ≥ 0, got -1|error: .*alpha/);
  assert.match(out, /error: function "nosuch": not known here/);
  assert.match(out, /error: \.step: N must be an integer/);
  assert.equal(backend.session.paused, true);
  assert.equal(backend.session.params!.alpha, 2);
});
