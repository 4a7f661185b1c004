/**
 * `npm run bench -- cli [--json] [--runs N]`: start-up cost of the CLI as a ratio to a bare
 * `node -e 0`, measured side by side in one run (interleaved, so machine load hits every
 * variant alike). Commands: `ghost-alps --version`, and two that draw no chart: `learn` on a
 * three-record trace (parse, learn, print) and a refused flag (`simulate --cpus 0`, exit 3).
 * Each prints its median wall time; the ratios are what carries between machines.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

interface Variant {
  name: string;
  argv: string[];
  /** Exit code the command must end with (a wrong one means the measurement is of a failure). */
  code: number;
}

export async function cliBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 15;
  if (!(Number.isInteger(runs) && runs >= 3 && runs <= 1000)) throw new Error(`--runs must be an integer in 3..1000, got ${argv[runsAt + 1]}`);
  const dir = mkdtempSync(join(tmpdir(), 'alps-bench-cli-'));
  try {
    const trace = join(dir, 'trace.jsonl');
    writeFileSync(
      trace,
      ['{"funcId":2,"arrivalNs":0,"endNs":12000000,"cpuNs":12000000}', '{"funcId":6,"arrivalNs":1000000,"endNs":60000000,"cpuNs":45000000}', '{"funcId":2,"arrivalNs":5000000,"endNs":24000000,"cpuNs":12000000}'].join('\n') + '\n',
    );
    const variants: Variant[] = [
      { name: 'node -e 0', argv: ['-e', '0'], code: 0 },
      { name: 'ghost-alps --version', argv: [MAIN, '--version'], code: 0 },
      { name: 'ghost-alps learn (3 records, --json)', argv: [MAIN, 'learn', '--trace', trace, '--json'], code: 0 },
      { name: 'ghost-alps simulate --cpus 0 (refused)', argv: [MAIN, 'simulate', '--cpus', '0'], code: 3 },
    ];
    const times = variants.map(() => [] as number[]);
    for (let r = 0; r < runs + 1; r++) {
      variants.forEach((v, i) => {
        const t0 = process.hrtime.bigint();
        const res = spawnSync(process.execPath, v.argv, { stdio: ['ignore', 'ignore', 'pipe'] });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.status !== v.code) throw new Error(`${v.name}: exit ${res.status} (expected ${v.code}): ${String(res.stderr)}`);
        if (r > 0) times[i]!.push(ms); // the first round warms the file cache
      });
    }
    const base = median(times[0]!);
    const rows = variants.map((v, i) => ({ command: v.name, medianMs: Math.round(median(times[i]!) * 10) / 10, ratio: Math.round((median(times[i]!) / base) * 100) / 100 }));
    if (json) {
      process.stdout.write(`${JSON.stringify({ runs, baselineMs: rows[0]!.medianMs, rows }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`CLI start-up, median of ${runs} interleaved runs (ratio = command / node -e 0, same run):\n`);
    const w = Math.max(...rows.map((r) => r.command.length));
    for (const r of rows) process.stdout.write(`  ${r.command.padEnd(w)}  ${r.medianMs.toFixed(1).padStart(8)} ms  ${r.ratio.toFixed(2).padStart(5)}x\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
