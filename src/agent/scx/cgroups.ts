/** The cgroup → function map shared by the scheduler and the profiler (alps_cgfuncs). */
import { statSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import { MAX_FUNC_ID } from '../../core/ids.js';
import { type BpfMap, u32Key } from '../../native/bpf.js';

/** Writes cgroup `dir` → funcId into an alps_cgfuncs map (validated first). */
export function mapCgroup(map: BpfMap, dir: string, funcId: number): void {
  if (!Number.isInteger(funcId) || funcId < 1 || funcId > MAX_FUNC_ID) throw new InputError(`cgroup ${dir}`, `funcId must be an integer in 1..${MAX_FUNC_ID}, got ${funcId}`);
  let st;
  try {
    st = statSync(dir, { bigint: true });
  } catch (e) {
    throw new InputError(`cgroup ${dir}`, (e as Error).message);
  }
  if (!st.isDirectory()) throw new InputError(`cgroup ${dir}`, 'is not a cgroup directory');
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(st.ino); // a cgroup-v2 directory's inode number is the cgroup id
  map.update(key, u32Key(funcId));
}

