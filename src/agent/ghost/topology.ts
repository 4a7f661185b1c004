/**
 * CPU order for placing work, from the kernel's topology files
 * (`<sys>/devices/system/cpu/cpuN/topology/thread_siblings_list`, and the last-level cache from
 * `cpuN/cache/indexK/shared_cpu_list` with the highest `level`): CPUs are grouped by LLC, and
 * within an LLC one hardware thread of every core comes before any core's second thread, so an
 * idle core is used before a busy core's SMT sibling. A CPU without topology files is its own core
 * and LLC; without any files the order is numeric.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Parse a kernel CPU list ("0-3,8\n"); undefined for malformed text. */
export function parseCpuList(text: string): number[] | undefined {
  const out: number[] = [];
  const t = text.trim();
  if (t === '') return out;
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

function readList(path: string): number[] | undefined {
  try {
    return parseCpuList(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface CpuTopology {
  /** Lowest CPU of the core (thread siblings) `cpu` belongs to. */
  core: number;
  /** Lowest CPU sharing `cpu`'s last-level cache. */
  llc: number;
}

/** Topology of each CPU in `cpus` read under `sysRoot` (default /sys). */
export function readTopology(cpus: readonly number[], sysRoot = '/sys'): Map<number, CpuTopology> {
  const out = new Map<number, CpuTopology>();
  for (const c of cpus) {
    const base = join(sysRoot, 'devices/system/cpu', `cpu${c}`);
    const siblings = readList(join(base, 'topology/thread_siblings_list')) ?? readList(join(base, 'topology/core_cpus_list'));
    let llcList: number[] | undefined;
    let llcLevel = -1;
    let indexes: string[] = [];
    try {
      indexes = readdirSync(join(base, 'cache')).filter((n) => /^index\d+$/.test(n));
    } catch {
      indexes = [];
    }
    for (const idx of indexes) {
      let level = -1;
      try {
        level = Number(readFileSync(join(base, 'cache', idx, 'level'), 'utf8').trim());
      } catch {
        continue;
      }
      const list = readList(join(base, 'cache', idx, 'shared_cpu_list'));
      if (list && level > llcLevel) {
        llcLevel = level;
        llcList = list;
      }
    }
    out.set(c, {
      core: siblings && siblings.length ? Math.min(...siblings) : c,
      llc: llcList && llcList.length ? Math.min(...llcList) : c,
    });
  }
  return out;
}

/**
 * `cpus` in placement order: by LLC (lowest CPU first), then round by round one thread of each
 * core (a core's threads in numeric order), so SMT siblings come after every other core's first
 * thread of that LLC.
 */
export function placementOrder(cpus: readonly number[], topo: Map<number, CpuTopology>): number[] {
  const byLlc = new Map<number, Map<number, number[]>>();
  for (const c of [...cpus].sort((a, b) => a - b)) {
    const t = topo.get(c) ?? { core: c, llc: c };
    let cores = byLlc.get(t.llc);
    if (!cores) byLlc.set(t.llc, (cores = new Map()));
    const threads = cores.get(t.core) ?? [];
    threads.push(c);
    cores.set(t.core, threads);
  }
  const out: number[] = [];
  for (const llc of [...byLlc.keys()].sort((a, b) => a - b)) {
    const cores = [...(byLlc.get(llc) as Map<number, number[]>).entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
    for (let round = 0; cores.some((t) => t.length > round); round++) {
      for (const t of cores) if (t.length > round) out.push(t[round] as number);
    }
  }
  return out;
}

/** Placement order of `cpus` on this host (or a fake sysfs root). */
export function hostCpuOrder(cpus: readonly number[], sysRoot = '/sys'): number[] {
  return placementOrder(cpus, readTopology(cpus, sysRoot));
}
