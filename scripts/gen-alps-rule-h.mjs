#!/usr/bin/env node
// Writes ghost-kernel/bpf/alps_rule.h from src/core/alps-rule.ts (via dist/: run `npx tsc` first).
// test/unit/core/alps-rule.test.ts fails when the committed header and the TS module disagree.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alpsRuleHeader } from '../dist/src/core/alps-rule.js';

const out = fileURLToPath(new URL('../ghost-kernel/bpf/alps_rule.h', import.meta.url));
writeFileSync(out, alpsRuleHeader());
console.log(`wrote ${out}`);
