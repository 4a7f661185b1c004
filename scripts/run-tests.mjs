#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) under node's built-in test runner.
// Node 20's `node --test DIR` does not recurse the way we need, so we list files ourselves.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'dist', 'test');
if (!existsSync(dir)) {
  console.error('run-tests: dist/test is missing; run `npm run build` first');
  process.exit(2);
}
const files = [];
(function walk(d) {
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(dir);
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (chosen.length === 0) {
  console.error(`run-tests: no test files matched ${filters.join(' ') || '(all)'}`);
  process.exit(2);
}
console.log(`run-tests: ${chosen.length} files: ${chosen.map((f) => relative(dir, f)).join(' ')}`);
// A safety net, not a budget: a test that hangs is cancelled (and counted as failed) after 20
// minutes instead of holding the whole run; slow tests set their own, tighter timeouts.
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=1200000', ...chosen], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
