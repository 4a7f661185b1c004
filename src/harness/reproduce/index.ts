import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus as hostCpus } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../core/errors.js';
import type { MachineProfile, Simulate } from '../../core/sim.js';
import type { ProgressSink } from '../ab.js';
import { ReproContext } from './context.js';
import { EXPERIMENTS, FULL_SCALE, MARGIN_PCT, type ReproScale } from './experiments.js';
import { mdTable, type Section } from './section.js';

export { EXPERIMENTS, FULL_SCALE, type ReproScale } from './experiments.js';
export type { Section, ResultRow } from './section.js';

export interface ReproOptions {
  simulate: Simulate;
  out: string;
  seed: number;
  scale: ReproScale;
  /** Experiment ids to run (default: all). */
  only?: readonly string[];
  progress?: ProgressSink;
  /** A line per experiment (start/finish), e.g. to stderr. */
  log?: (line: string) => void;
  /** Simulated machine of every run (`reproduce --machine FILE`); default the ideal host. */
  machine?: MachineProfile;
  /** The machine file's path, for the results' header. */
  machineFile?: string;
}

export interface ReproSummary {
  sections: Section[];
  wallMs: number;
  simulatedRuns: number;
  resultsPath: string;
}

const verdict = (a: boolean | null): string => (a === null ? '—' : a ? 'yes' : 'no');

function renderMarkdown(sections: Section[], o: ReproOptions, wallMs: number, runs: number): string {
  const s = o.scale;
  const out: string[] = [];
  out.push('# ghost-alps: the ALPS paper’s experiments, in simulation');
  out.push('');
  out.push(
    `Produced by \`ghost-alps reproduce --out ${o.out}\` (seed ${o.seed}) in ${(wallMs / 1000).toFixed(1)} s wall on ` +
      `${hostCpus().length} host CPUs (${runs} simulated runs). Every number is measured by this run; none is copied.`,
  );
  if (o.machine) {
    const m = o.machine;
    out.push('');
    out.push(
      `**Machine.** Every run uses the machine file ${o.machineFile ?? '(given)'}: HZ ${m.hz}, context switch ${m.ctxSwitchNs / 1e3} µs, ` +
        `${(m.launchCpuNs / 1e6).toFixed(2)} ms launch CPU per invocation, capacity ${m.cpuCapacity}, background ${(100 * m.backgroundLoad).toFixed(1)}%, base slice ${m.baseSliceNs / 1e3} µs per CPU (docs/simulator.md, "Machine files").`,
    );
  }
  out.push('');
  out.push('**Sizes.** ' + (s.invocations === FULL_SCALE.invocations
    ? `Paper sizes: ${s.invocations} invocations per run, ${s.paperCpus} CPUs for the evaluation figures, ${s.motivationCpus} for the motivation (§3), ${s.ioCpus} for the I/O study. `
    : `Scaled down: ${s.invocations} invocations per run (the paper: 15,000). `) +
    `Sensitivity and ablation run at ${s.smallCpus} CPUs: at ${s.paperCpus} CPUs every scheduler is within a few percent of SRPT (see Calibration), which would hide the effects being measured.`);
  out.push('');
  out.push(
    '**How to read.** The paper measured real kernels on a 56-CPU host; this is a discrete-event model of one ' +
      '(src/sim) driven by our synthetic Table 1 workloads (docs/workloads.md). Absolute numbers are not expected to ' +
      'match; the "agrees" column says whether the paper’s *claim* (direction or ordering, stated per row) holds here. ' +
      `A claim of a substantial difference counts only if ours goes the same way by at least ${MARGIN_PCT}% (10% for M3); ` +
      '"slightly better" claims need the direction only.',
  );
  out.push('');
  out.push('## Summary');
  out.push('');
  const all = sections.flatMap((sec) => sec.rows.map((r) => [sec.id, r.quantity, r.paper, r.ours, verdict(r.agrees)]));
  out.push(mdTable(['experiment', 'quantity', 'paper', 'ours', 'agrees'], all));
  out.push('');
  const agreed = sections.flatMap((x) => x.rows).filter((r) => r.agrees === true).length;
  const judged = sections.flatMap((x) => x.rows).filter((r) => r.agrees !== null).length;
  out.push(`${agreed} of ${judged} judged rows agree with the paper’s claim.`);
  for (const sec of sections) {
    out.push('');
    out.push(`## ${sec.title}`);
    out.push('');
    out.push(`*Paper:* ${sec.paperSetup}`);
    out.push('');
    out.push(`*Ours:* ${sec.ourSetup}`);
    if (sec.rows.length) {
      out.push('');
      out.push(mdTable(['quantity', 'paper', 'ours', 'agrees', 'note'], sec.rows.map((r) => [r.quantity, r.paper, r.ours, verdict(r.agrees), r.note ?? ''])));
    }
    for (const t of sec.tables) {
      out.push('');
      out.push(t);
    }
    for (const n of sec.notes) {
      out.push('');
      out.push(n);
    }
    if (sec.charts.length) {
      out.push('');
      out.push(`Charts: ${sec.charts.map((c) => `[${c.replace('charts/', '')}](${c})`).join(', ')}`);
    }
  }
  out.push('');
  return out.join('\n');
}

/** Run the experiments, write `<out>/results.md`, `<out>/results.json` and charts. */
export async function runReproduction(o: ReproOptions): Promise<ReproSummary> {
  const ids = EXPERIMENTS.map((e) => e.id);
  for (const id of o.only ?? []) if (!ids.includes(id)) throw new InputError('--only', `unknown experiment "${id}" (known: ${ids.join(', ')})`);
  try {
    mkdirSync(join(o.out, 'charts'), { recursive: true });
  } catch (e) {
    throw new InputError('--out', `cannot create ${o.out}: ${(e as Error).message}`);
  }
  const ctx = new ReproContext(o.simulate, o.seed, o.progress, o.machine);
  const t0 = performance.now();
  const sections: Section[] = [];
  const chosen = EXPERIMENTS.filter((e) => !o.only || o.only.includes(e.id));
  for (const [i, e] of chosen.entries()) {
    const t = performance.now();
    o.log?.(`[${i + 1}/${chosen.length}] ${e.id} …`);
    sections.push(await e.run({ ctx, scale: o.scale, out: o.out }));
    o.progress?.stop();
    o.log?.(`[${i + 1}/${chosen.length}] ${e.id} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const wallMs = performance.now() - t0;
  const resultsPath = join(o.out, 'results.md');
  writeFileSync(resultsPath, renderMarkdown(sections, o, wallMs, ctx.simulatedRuns));
  writeFileSync(join(o.out, 'results.json'), `${JSON.stringify({ seed: o.seed, scale: o.scale, wallMs, sections }, null, 2)}\n`);
  return { sections, wallMs, simulatedRuns: ctx.simulatedRuns, resultsPath };
}
