/**
 * `npm run bench -- NAME [--json] [...]`: runs one benchmark suite. Suites measure medians
 * over repeated runs side by side in one process (these machines are noisy); each prints a
 * table, or JSON with --json.
 */
import { suites } from './suites.js';

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const suite = name ? suites[name] : undefined;
  if (!suite) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(suites).join('|')}> [--json]\n`);
    if (name) process.stderr.write(`bench: unknown suite '${name}'\n`);
    process.exit(2);
  }
  await suite(rest);
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
