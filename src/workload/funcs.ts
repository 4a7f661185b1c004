/**
 * Function identity of ghOSt tasks without kernel patches (architecture.md, "Functions are tagged"):
 *  - the launcher registry: `ghost-alps exec --func NAME` writes `<pid>\t<name>` into a registry
 *    directory before starting the command; a task belongs to the nearest registered ancestor.
 *  - a cgroup -> function map for container sandboxes: the longest matching cgroup path prefix.
 * funcIds are derived from names with FNV-1a (u32, never 0) so every producer agrees on them.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FuncId } from '../core/ids.js';
import { InputError } from '../core/errors.js';

export const DEFAULT_REGISTRY_DIR = process.env.GHOST_ALPS_REGISTRY ?? '/run/ghost-alps/funcs';

/** FNV-1a of the UTF-8 name, as a nonzero u32. */
export function funcIdOfName(name: string): FuncId {
  if (name.length === 0) throw new InputError('function name', 'is empty');
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}

export interface FuncResolver {
  /** funcId of thread `tid` (0 = not a function). */
  resolve(tid: number): FuncId;
  /** Name of a funcId, where known. */
  nameOf(funcId: FuncId): string | undefined;
}

/** In-memory registry: tid/pid -> function, with parent links for inheritance. */
export class StaticResolver implements FuncResolver {
  private readonly byPid = new Map<number, FuncId>();
  private readonly parent = new Map<number, number>();
  private readonly names = new Map<FuncId, string>();
  register(pid: number, name: string): FuncId {
    const id = funcIdOfName(name);
    this.byPid.set(pid, id);
    this.names.set(id, name);
    return id;
  }
  /** Tag `pid` with an explicit funcId (workloads that already carry ids). */
  set(pid: number, funcId: FuncId, name?: string): void {
    this.byPid.set(pid, funcId);
    if (name !== undefined) this.names.set(funcId, name);
  }
  setParent(pid: number, ppid: number): void {
    this.parent.set(pid, ppid);
  }
  resolve(tid: number): FuncId {
    for (let p: number | undefined = tid, hops = 0; p !== undefined && hops < 64; p = this.parent.get(p), hops++) {
      const f = this.byPid.get(p);
      if (f !== undefined) return f;
    }
    return 0;
  }
  nameOf(funcId: FuncId): string | undefined {
    return this.names.get(funcId);
  }
}

/** Writes the launcher's registration (called by `ghost-alps exec`). Returns the file path. */
export function registerLaunch(pid: number, name: string, dir = DEFAULT_REGISTRY_DIR): string {
  funcIdOfName(name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, String(pid));
  writeFileSync(path, `${pid}\t${name}\n`);
  return path;
}

export function unregisterLaunch(pid: number, dir = DEFAULT_REGISTRY_DIR): void {
  rmSync(join(dir, String(pid)), { force: true });
}

/**
 * Resolver over /proc and the launcher registry directory, plus an optional cgroup map
 * (`{"/system.slice/fn-resize": "resize"}`). Results are cached per tid.
 */
export class ProcResolver implements FuncResolver {
  private readonly cache = new Map<number, FuncId>();
  private readonly names = new Map<FuncId, string>();
  private registry = new Map<number, FuncId>();
  constructor(
    private readonly dir = DEFAULT_REGISTRY_DIR,
    private readonly cgroups: Record<string, string> = {},
    private readonly proc = '/proc',
  ) {
    for (const name of Object.values(cgroups)) this.names.set(funcIdOfName(name), name);
    this.reload();
  }
  /** Re-read the registry directory (new launches). */
  reload(): void {
    const next = new Map<number, FuncId>();
    let files: string[] = [];
    try {
      files = readdirSync(this.dir);
    } catch {
      files = [];
    }
    for (const f of files) {
      try {
        const [pid, name] = readFileSync(join(this.dir, f), 'utf8').trim().split('\t');
        if (pid && name) {
          const id = funcIdOfName(name);
          next.set(Number(pid), id);
          this.names.set(id, name);
        }
      } catch {
        // a launcher that just exited removed its file: skip it
      }
    }
    this.registry = next;
    this.cache.clear();
  }
  resolve(tid: number): FuncId {
    const hit = this.cache.get(tid);
    if (hit !== undefined) return hit;
    const id = this.lookup(tid);
    this.cache.set(tid, id);
    return id;
  }
  forget(tid: number): void {
    this.cache.delete(tid);
  }
  nameOf(funcId: FuncId): string | undefined {
    return this.names.get(funcId);
  }
  private lookup(tid: number): FuncId {
    const cg = this.cgroupOf(tid);
    if (cg !== undefined) {
      let best = '';
      for (const prefix of Object.keys(this.cgroups)) if (cg.startsWith(prefix) && prefix.length > best.length) best = prefix;
      const name = best ? this.cgroups[best] : undefined;
      if (name) return funcIdOfName(name);
    }
    let pid: number | undefined = tid;
    for (let hops = 0; pid !== undefined && pid > 1 && hops < 64; hops++) {
      const f = this.registry.get(pid);
      if (f !== undefined) return f;
      pid = this.parentOf(pid);
    }
    return 0;
  }
  private cgroupOf(tid: number): string | undefined {
    if (Object.keys(this.cgroups).length === 0) return undefined;
    try {
      const line = readFileSync(join(this.proc, String(tid), 'cgroup'), 'utf8').split('\n').find((l) => l.startsWith('0::'));
      return line?.slice(3);
    } catch {
      return undefined;
    }
  }
  private parentOf(pid: number): number | undefined {
    try {
      const status = readFileSync(join(this.proc, String(pid), 'status'), 'utf8');
      const m = /^PPid:\s+(\d+)/m.exec(status);
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }
}
