/**
 * `npm run bench -- live [--json] [--runs N]`: cost of the REPL/dashboard live session. The
 * session advances by replaying the arrival prefix on the real simulator and learner (see
 * docs/telemetry.md), so a step costs one simulation of everything so far. Reports, per session
 * size, the median over runs of: steps, median and max step wall time, total time to the end.
 */
import { startLiveRun } from '../src/telemetry/live/run.js';
import { median } from './stats.js';

const SIZES = [3000, 8000] as const;

interface Row {
  invocations: number;
  steps: number;
  medianStepMs: number;
  maxStepMs: number;
  totalMs: number;
  generations: number;
}

async function once(invocations: number): Promise<Row> {
  const run = await startLiveRun({ workload: 'huawei', cpus: 8, load: 0.9, invocations, seed: 1, scheduler: 'alps', stepS: 1 });
  const ms: number[] = [];
  while (!run.session.done) ms.push(run.session.step().wallMs);
  await run.close();
  return { invocations, steps: ms.length, medianStepMs: median(ms), maxStepMs: Math.max(...ms), totalMs: ms.reduce((a, b) => a + b, 0), generations: run.session.policies.length };
}

export async function liveBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 3;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`--runs must be a positive integer, got ${argv[i + 1]}`);
  const rows: Row[] = [];
  for (const n of SIZES) {
    const rs: Row[] = [];
    for (let r = 0; r < runs; r++) rs.push(await once(n));
    rows.push({
      invocations: n,
      steps: rs[0]!.steps,
      generations: rs[0]!.generations,
      medianStepMs: median(rs.map((x) => x.medianStepMs)),
      maxStepMs: median(rs.map((x) => x.maxStepMs)),
      totalMs: median(rs.map((x) => x.totalMs)),
    });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ suite: 'live', runs, rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`live session (huawei, 8 CPUs, load 0.9, 1 s steps), median of ${runs} runs\n`);
  process.stdout.write('invocations  steps  gens  median step ms  max step ms  total ms\n');
  for (const r of rows) {
    process.stdout.write(`${String(r.invocations).padStart(11)}  ${String(r.steps).padStart(5)}  ${String(r.generations).padStart(4)}  ${r.medianStepMs.toFixed(1).padStart(14)}  ${r.maxStepMs.toFixed(1).padStart(11)}  ${r.totalMs.toFixed(0).padStart(8)}\n`);
  }
}
