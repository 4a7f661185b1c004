import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the ALPS artifact's replay traces live. They are read in place, never copied into the
 * project: $GHOST_ALPS_ARTIFACT_DIR, else `../shared/data/alps-artifact` beside the checkout
 * (how CI and the developers' machines lay it out). Returns the path whether or not it exists;
 * tests skip with a message when it does not.
 */
export function artifactTracePath(name: 'exp' | 'azure'): string {
  const env = process.env['GHOST_ALPS_ARTIFACT_DIR'];
  if (env) return join(env, name);
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return resolve(dir, '..', 'shared', 'data', 'alps-artifact', name);
}
