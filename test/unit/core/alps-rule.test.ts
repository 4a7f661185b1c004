import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ALPS_RULE_C_CONSTANTS,
  alpsRuleHeader,
  before,
  displaces,
  escapeDeadlineNs,
  ESCAPE_DEFAULT_EXPECTED_CPU_NS,
  ESCAPE_SLOWDOWN,
  functionRank,
  keepsCpu,
  LEVEL_ORDINARY,
  LEVEL_OVERDUE,
  levelOf,
  overdueDegree,
  preempts,
  type RuleTask,
  UNKNOWN_FUNCTION_RANK,
  ALPS_MAX_RANK,
} from '../../../src/core/alps-rule.js';

const MS = 1e6;
const task = (o: Partial<RuleTask>): RuleTask => ({ level: LEVEL_ORDINARY, degree: 0, deadlineNs: Infinity, fairKey: 0, rank: 0, arrivalNs: 0, id: 0, ...o });

test('the BPF header is generated from this module (ghost-kernel/bpf/alps_rule.h is current)', () => {
  // The repo root from dist/test/unit/core or test/unit/core alike: four levels up from dist.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/') ? new URL('../../../../', import.meta.url) : new URL('../../../', import.meta.url);
  const header = readFileSync(new URL('ghost-kernel/bpf/alps_rule.h', root), 'utf8');
  assert.equal(header, alpsRuleHeader(), 'regenerate: npx tsc -p tsconfig.json && node scripts/gen-alps-rule-h.mjs');
  for (const [k, v] of Object.entries(ALPS_RULE_C_CONSTANTS)) assert.match(header, new RegExp(`#define ${k} ${v}ULL\\n`));
});

test('levels: ordinary 0, overdue 1, ranked 1 + rank; a ranked task turns overdue at its deadline', () => {
  assert.equal(LEVEL_ORDINARY, 0);
  assert.equal(LEVEL_OVERDUE, 1);
  const d = escapeDeadlineNs(0, 10 * MS);
  assert.equal(d, ESCAPE_SLOWDOWN * 10 * MS);
  assert.equal(escapeDeadlineNs(5, undefined), 5 + ESCAPE_SLOWDOWN * ESCAPE_DEFAULT_EXPECTED_CPU_NS);
  assert.equal(levelOf(0, 0, 1e12), LEVEL_ORDINARY);
  assert.equal(levelOf(1, d, d - 1), 2);
  assert.equal(levelOf(4, d, d - 1), 5);
  assert.equal(levelOf(4, d, d), LEVEL_OVERDUE);
  assert.equal(overdueDegree(0, d, d - 1), 0);
  assert.equal(overdueDegree(0, d, d), 1);
  assert.equal(overdueDegree(0, d, 3 * d + 1), 3);
});

test('rank of a task: untagged ordinary; a function the policy does not know behind every learned rank; cold start ordinary', () => {
  // untagged work is ordinary whatever the policy holds
  assert.equal(functionRank(0, undefined, 12), 0);
  assert.equal(functionRank(0, 3, 12), 0);
  // a learned rank, clamped to the key width
  assert.equal(functionRank(7, 3, 12), 3);
  assert.equal(functionRank(7, ALPS_MAX_RANK + 5, 12), ALPS_MAX_RANK);
  // a function absent from a non-empty policy: behind every learned rank, never ordinary
  assert.equal(functionRank(7, undefined, 12), UNKNOWN_FUNCTION_RANK);
  assert.ok(UNKNOWN_FUNCTION_RANK >= ALPS_MAX_RANK);
  const d = escapeDeadlineNs(0, undefined);
  assert.ok(levelOf(functionRank(7, undefined, 12), d, 0) > levelOf(functionRank(7, 2, 12), d, 0));
  // ... whose deadline uses the default E[CPU], so it does turn overdue
  assert.equal(levelOf(functionRank(7, undefined, 12), d, d), LEVEL_OVERDUE);
  // cold start: a policy without entries knows nothing, and function work runs as ordinary
  assert.equal(functionRank(7, undefined, 0), 0);
});

test('order: ordinary work first (by vruntime), then overdue (degree, higher first; rank; deadline), then ranked by arrival', () => {
  const ORD = LEVEL_ORDINARY;
  const OVD = LEVEL_OVERDUE;
  // Function work, overdue or not, never runs ahead of untagged work.
  assert.ok(before(task({ level: ORD, fairKey: 1e12 }), task({ level: OVD, degree: 255, rank: 1 })));
  assert.ok(!before(task({ level: OVD, degree: 255, rank: 1 }), task({ level: ORD, fairKey: 1e12 })));
  assert.ok(before(task({ level: OVD, degree: 1, rank: 9 }), task({ level: 2, arrivalNs: 0 })));
  assert.ok(before(task({ level: OVD, degree: 3, rank: 9 }), task({ level: OVD, degree: 2, rank: 1 })));
  assert.ok(before(task({ level: OVD, degree: 2, rank: 1, deadlineNs: 9 }), task({ level: OVD, degree: 2, rank: 2, deadlineNs: 1 })));
  assert.ok(before(task({ level: OVD, degree: 2, rank: 1, deadlineNs: 1 }), task({ level: OVD, degree: 2, rank: 1, deadlineNs: 9 })));
  assert.ok(before(task({ level: ORD, fairKey: 1, id: 9 }), task({ level: ORD, fairKey: 2, id: 1 })));
  assert.ok(before(task({ level: 3, arrivalNs: 1, fairKey: 9 }), task({ level: 3, arrivalNs: 2, fairKey: 0 })));
  // total: ties end at id, never both ways
  const a = task({ level: 3, arrivalNs: 1, id: 1 });
  const b = task({ level: 3, arrivalNs: 1, id: 2 });
  assert.ok(before(a, b) && !before(b, a) && !before(a, a));
});

test('preemption and slice protection: only a strictly lower level preempts inside the slice; at its end, whatever orders first', () => {
  assert.ok(preempts(2, 3));
  assert.ok(!preempts(3, 3));
  assert.ok(!preempts(4, 3));
  const curr = task({ level: 3, arrivalNs: 5 });
  const older = task({ level: 3, arrivalNs: 1 });
  const better = task({ level: 2, arrivalNs: 9 });
  assert.ok(displaces(better, curr, 0, 10 * MS));
  assert.ok(!displaces(older, curr, 9 * MS, 10 * MS));
  assert.ok(displaces(older, curr, 10 * MS, 10 * MS));
  assert.ok(!displaces(task({ level: 3, arrivalNs: 9 }), curr, 10 * MS, 10 * MS));
  assert.ok(!displaces(null, curr, 1e12, 1));
  assert.ok(keepsCpu(curr, task({ level: 3, arrivalNs: 9 })));
  assert.ok(!keepsCpu(curr, older));
  assert.ok(keepsCpu(curr, null));
});
