/**
 * Launch a command as one tagged invocation of a function: spawns the static launcher
 * `alps-exec` with the tag maps passed as inherited file descriptors (3, 4, …); it tags itself
 * by pidfd in each map and execs the command, so every task of the invocation carries the tag
 * from its first instruction. No bpffs pinning is needed.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import { MAX_FUNC_ID } from '../../core/ids.js';
import { type BpfMap, bpfArtifact } from '../../native/bpf.js';

export interface LaunchOptions {
  funcId: number;
  argv: string[];
  tagMaps: BpfMap[];
  stdio?: 'ignore' | 'inherit' | 'pipe';
  env?: NodeJS.ProcessEnv;
}

export function launchTagged(o: LaunchOptions): ChildProcess {
  if (!Number.isInteger(o.funcId) || o.funcId <= 0 || o.funcId > MAX_FUNC_ID) {
    throw new InputError('funcId', `must be an integer in 1..${MAX_FUNC_ID}, got ${o.funcId}`);
  }
  if (o.argv.length === 0) throw new InputError('command', 'is empty');
  if (o.tagMaps.length === 0) throw new InputError('tagMaps', 'needs at least one tag map');
  const s = o.stdio ?? 'ignore';
  const stdio: StdioOptions = [s, s, s, ...o.tagMaps.map((m) => m.info().fd)];
  const args = ['--func', String(o.funcId)];
  o.tagMaps.forEach((_, i) => args.push('--map-fd', String(3 + i)));
  return spawn(bpfArtifact('alps-exec'), [...args, '--', ...o.argv], { stdio, env: o.env ?? process.env });
}

/**
 * argv that runs `cmd` as one tagged invocation through the tag map a running
 * `ghost-alps agent --scx` pinned (undefined when no such agent runs).
 */
export function scxExecArgv(funcId: number, cmd: string[], pin = '/sys/fs/bpf/ghost-alps/alps_tags'): string[] | undefined {
  if (!existsSync(pin)) return undefined;
  return [bpfArtifact('alps-exec'), '--pin', pin, '--func', String(funcId), '--', ...cmd];
}
