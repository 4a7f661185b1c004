/**
 * The shipped systemd unit (deploy/systemd/ghost-alps.service) and its installation. The unit
 * file in the package names /usr/local/bin/ghost-alps; `unitText` points ExecStart at this
 * installation instead (node + main.js by absolute path), so the unit runs the code that
 * printed it whether it came from `npm install -g` or a checkout.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../core/errors.js';
import { DEFAULT_CONFIG_PATH } from './config.js';

export const UNIT_NAME = 'ghost-alps.service';
export const UNIT_DIR = '/etc/systemd/system';

/** The package root (the directory holding package.json and deploy/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'deploy'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`ghost-alps: cannot find deploy/ above ${fileURLToPath(import.meta.url)}`);
}

export const shippedUnitPath = (): string => join(packageRoot(), 'deploy', 'systemd', UNIT_NAME);
export const exampleConfigPath = (): string => join(packageRoot(), 'deploy', 'agent.example.yaml');

/** systemd's quoting for one ExecStart word. */
function execWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface UnitOptions {
  config?: string;
  /** Absolute path of the node binary (default: this one). */
  node?: string;
  /** Absolute path of the CLI's main.js (default: this installation's). */
  main?: string;
  /** Print the unit exactly as shipped. */
  asShipped?: boolean;
}

export function unitText(o: UnitOptions = {}): string {
  const text = readFileSync(shippedUnitPath(), 'utf8');
  if (o.asShipped) return text;
  const node = o.node ?? process.execPath;
  const main = o.main ?? resolve(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const exec = ['ExecStart=' + [node, main, 'agent', '--config', o.config ?? DEFAULT_CONFIG_PATH].map(execWord).join(' ')];
  return text.replace(/^ExecStart=.*$/m, exec[0]!);
}

/** Is this host running systemd as its init (sd_booted(3))? */
export const systemdBooted = (root = '/run/systemd/system'): boolean => existsSync(root);

export interface InstallResult {
  unitPath: string;
  configPath: string;
  wroteConfig: boolean;
  commands: string[];
}

function run(cmd: string[], log: string[]): void {
  log.push(cmd.join(' '));
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited with ${r.status}: ${(r.stderr || r.stdout).trim()}`);
}

/** Refuses with exit 4 (not systemd) or 5 (not root) before touching anything. */
export function checkInstallable(): void {
  if (!systemdBooted()) {
    throw new UnsupportedError('service install', 'this host is not running systemd (/run/systemd/system is missing)', 'run `ghost-alps service print-unit` and install it by hand, or use deploy/kubernetes/ on a cluster');
  }
  if (process.getuid?.() !== 0) {
    throw Object.assign(new Error('service install: writing /etc/systemd/system needs root'), { code: 'EACCES' });
  }
}

/** Writes the unit (and an example config if none), reloads systemd, enables (and starts) it. */
export function installUnit(o: { config?: string; now?: boolean } = {}): InstallResult {
  checkInstallable();
  const configPath = o.config ?? DEFAULT_CONFIG_PATH;
  const commands: string[] = [];
  const unitPath = join(UNIT_DIR, UNIT_NAME);
  writeFileSync(unitPath, unitText({ config: configPath }), { mode: 0o644 });
  let wroteConfig = false;
  if (!existsSync(configPath)) {
    mkdirSync(dirname(configPath), { recursive: true, mode: 0o755 });
    copyFileSync(exampleConfigPath(), configPath);
    wroteConfig = true;
  }
  run(['systemctl', 'daemon-reload'], commands);
  run(['systemctl', 'enable', ...(o.now ? ['--now'] : []), UNIT_NAME], commands);
  return { unitPath, configPath, wroteConfig, commands };
}

/** Stops and disables the unit and removes its file (the config stays). */
export function uninstallUnit(): { unitPath: string; commands: string[] } {
  checkInstallable();
  const commands: string[] = [];
  const unitPath = join(UNIT_DIR, UNIT_NAME);
  run(['systemctl', 'disable', '--now', UNIT_NAME], commands);
  rmSync(unitPath, { force: true });
  run(['systemctl', 'daemon-reload'], commands);
  return { unitPath, commands };
}
