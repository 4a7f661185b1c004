/**
 * `agent --ghost --backend scx`: the same ghOSt client and agent, with the ghOSt ABI carried by
 * the sched_ext scheduler ghost-kernel/bpf/ghost.bpf.c instead of a ghOSt kernel (ghostfs paths
 * and ioctls are served by native/ghost/sys_scx.cc; docs/ghost.md, "ghOSt kernel vs the sched_ext
 * backend"). This module only finds the two build artefacts and says why the backend cannot run
 * here, before anything is loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../../core/errors.js';
import { bpfBuildDir } from '../../native/bpf.js';

export interface ScxGhostPaths {
  /** Static libbpf helper that loads ghost.bpf.o, pins it and holds the struct_ops link. */
  loader: string;
  object: string;
}

const SCX_STATE = '/sys/kernel/sched_ext/state';

export function scxGhostPaths(dir = bpfBuildDir()): ScxGhostPaths {
  return { loader: join(dir, 'ghost-scx-loader'), object: join(dir, 'ghost.bpf.o') };
}

/** Why the sched_ext ghOSt backend cannot start here, or undefined when it can. */
export function scxGhostUnavailable(paths = scxGhostPaths()): string | undefined {
  if (!existsSync(SCX_STATE)) return 'this kernel has no sched_ext (/sys/kernel/sched_ext missing; needs CONFIG_SCHED_CLASS_EXT=y, Linux >= 6.12)';
  for (const f of [paths.loader, paths.object]) {
    if (!existsSync(f)) return `${f} not built (make -C ghost-kernel/bpf; needs the target kernel's BTF)`;
  }
  if (process.getuid?.() !== 0) return 'loading a sched_ext scheduler needs root';
  const state = readFileSync(SCX_STATE, 'utf8').trim();
  if (state !== 'disabled') return `another sched_ext scheduler is attached (state ${state})`;
  return undefined;
}

/** The paths, or an UnsupportedError (exit 4) naming the reason. */
export function requireScxGhost(): ScxGhostPaths {
  const paths = scxGhostPaths();
  const why = scxGhostUnavailable(paths);
  if (why) throw new UnsupportedError('--backend scx', why, 'run it on a sched_ext kernel as root, e.g. inside `ghost-alps vm run`');
  return paths;
}
