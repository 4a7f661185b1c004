import type { LearnerParams, Policy } from '../core/policy.js';
import type { Ns } from '../core/time.js';
import type { FunctionInfo } from '../core/workload.js';
import type { FuncStat, UtilMsg } from '../telemetry/schema.js';

const ms = (ns: Ns): string => (ns / 1e6).toFixed(ns < 10e6 ? 2 : 1);
const s = (ns: Ns): string => (ns / 1e9).toFixed(1);

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export function formatParams(p: Readonly<LearnerParams> | undefined): string {
  if (!p) return '(no learner)';
  return `α=${p.alpha} β=${p.beta} γ=${p.gamma} θ=${p.theta} window=${s(p.windowNs)}s model=${p.model} mode=${p.mode} ioAware=${p.ioAware}`;
}

/** `.policy`: generation, parameters, then one row per function in rank order. */
export function formatPolicy(policy: Policy | undefined, functions: readonly FunctionInfo[], atNs?: Ns): string {
  if (!policy) return 'no policy yet (the learner installs its first at the end of its first window; try .next)';
  const names = new Map(functions.map((f) => [f.funcId, f]));
  const rows = [...policy.entries]
    .sort((a, b) => a.rank - b.rank || a.funcId - b.funcId)
    .map((e) => [names.get(e.funcId)?.name ?? String(e.funcId), String(e.funcId), String(names.get(e.funcId)?.group ?? '-'), String(e.rank), e.sliceNs ? ms(e.sliceNs) : 'default']);
  const when = atNs !== undefined ? ` installed at ${s(atNs)} s` : '';
  return `generation ${policy.generation}${when}: ${formatParams(policy.params)}\n${table(['function', 'id', 'group', 'rank', 'slice ms'], rows)}`;
}

/** `.funcs`: every function with its stats so far. */
export function formatFuncs(functions: readonly FunctionInfo[], stats: readonly FuncStat[] | undefined): string {
  const by = new Map((stats ?? []).map((x) => [x.funcId, x]));
  const rows = functions.map((f) => {
    const st = by.get(f.funcId);
    return [f.name, String(f.funcId), f.app, String(f.group), String(st?.invocations ?? 0), st?.invocations ? ms(st.meanTurnaroundNs) : '-', st?.invocations ? ms(st.p99TurnaroundNs) : '-', st?.rank !== undefined ? String(st.rank) : '-', st?.sliceNs ? ms(st.sliceNs) : '-'];
  });
  return table(['function', 'id', 'app', 'group', 'done', 'mean ms', 'p99 ms', 'rank', 'slice ms'], rows);
}

/** `.top`: the machine now, then the functions with the worst p99 turnaround. */
export function formatTop(stats: readonly FuncStat[] | undefined, util: Omit<UtilMsg, 'v' | 'type'> | undefined, learning: string, n = 10): string {
  const head = util
    ? `t=${s(util.atNs)}s  completed=${util.completed}  throughput=${util.throughputPerS.toFixed(1)}/s` +
      (util.offeredPct !== undefined ? `  offered=${util.offeredPct.toFixed(0)}%` : '') +
      (util.utilisationPct !== undefined ? `  util=${util.utilisationPct.toFixed(0)}%` : '') +
      `  learning=${learning}`
    : `no samples yet  learning=${learning}`;
  const worst = [...(stats ?? [])].filter((x) => x.invocations > 0).sort((a, b) => b.p99TurnaroundNs - a.p99TurnaroundNs).slice(0, n);
  const rows = worst.map((x) => [x.name ?? String(x.funcId), String(x.invocations), ms(x.meanTurnaroundNs), ms(x.p99TurnaroundNs), x.rank !== undefined ? String(x.rank) : '-', x.sliceNs ? ms(x.sliceNs) : '-']);
  return `${head}\n${table(['function', 'done', 'mean ms', 'p99 ms', 'rank', 'slice ms'], rows)}`;
}
