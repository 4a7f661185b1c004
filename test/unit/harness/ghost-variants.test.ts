import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { attachGhostAgents, parseSchedulerList } from '../../../src/harness/variants.js';
import { simulate } from '../../../src/sim/index.js';
import { loadWorkload } from '../../../src/workload/index.js';

const addonBuilt = existsSync(new URL('../../../../build/Release/alps_ghost.node', import.meta.url)) || existsSync(new URL('../../../build/Release/alps_ghost.node', import.meta.url));

test('ghOSt agent names parse; only they get their own simulate()', async () => {
  const variants = parseSchedulerList('cfs,alps-ghost,ghost-cfs,ghost-fifo');
  assert.deepEqual(variants.map((v) => v.scheduler), ['cfs', 'alps-ghost', 'ghost-cfs', 'ghost-fifo']);
  assert.throws(() => parseSchedulerList('ghost-eevdf'), /unknown scheduler "ghost-eevdf"/);
  if (!addonBuilt) return;
  await attachGhostAgents(variants);
  assert.equal(variants[0]!.simulate, undefined);
  for (const v of variants.slice(1)) assert.equal(typeof v.simulate, 'function');
});

test('alps-ghost runs the real agent on the emulated kernel: every invocation completes', { skip: addonBuilt ? false : 'native addon alps_ghost not built (npm run setup)' }, async () => {
  const [v] = parseSchedulerList('alps-ghost');
  await attachGhostAgents([v!]);
  const bundle = loadWorkload('azure', { cpus: 4, load: 0.8, invocations: 400, seed: 3 });
  const r = v!.simulate!(bundle.workload, { cpus: 4, scheduler: 'alps-ghost', seed: 3 });
  assert.equal(r.records.length, 400);
  const direct = simulate(bundle.workload, { cpus: 4, scheduler: 'cfs', seed: 3 });
  // Same work done: total CPU time matches the in-kernel run's.
  const cpu = (rs: typeof r.records) => rs.reduce((s, x) => s + x.cpuNs, 0);
  assert.equal(cpu(r.records), cpu(direct.records));
});
