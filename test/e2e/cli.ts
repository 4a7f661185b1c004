import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where package.json is), from src or from dist. */
export const ROOT = ((): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

/** argv prefix that runs the CLI: the compiled one under dist, else the sources through tsx. */
export function cliArgv(): string[] {
  const compiled = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (fileURLToPath(import.meta.url).endsWith('.js') && existsSync(compiled)) return [process.execPath, compiled];
  return [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
}

export function runCli(args: string[], env: Record<string, string>): ChildProcess {
  const [cmd, ...pre] = cliArgv();
  return spawn(cmd!, [...pre, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Resolve with the first stdout line of a child. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += String(d)));
    const on = (d: Buffer): void => {
      buf += String(d);
      const i = buf.indexOf('\n');
      if (i >= 0) {
        child.stdout!.off('data', on);
        resolve(buf.slice(0, i));
      }
    };
    child.stdout!.on('data', on);
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing: ${err}`)));
  });
}

/** Everything a child prints until it exits, with its exit code. */
export function collect(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}
