#!/usr/bin/env node
// Prints the C++ sources (*.cc, not *_test.cc or fuzz_*.cc) under the given folders, one per
// line, for binding.gyp's `<!@(...)` expansion: adding a file to a folder adds it to the addon.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const out = [];
function walk(d) {
  if (!existsSync(d)) return;
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.cc') && !name.endsWith('_test.cc') && !name.startsWith('fuzz_')) out.push(p);
  }
}
for (const d of process.argv.slice(2)) walk(d);
process.stdout.write(out.join('\n') + '\n');
