/**
 * Structured logs (pino). Not on a terminal (systemd's journal, a container log): one JSON
 * object per line, fields as they are. On a terminal: one readable line per event,
 * `HH:MM:SS.mmm LEVEL message key=value …`, written by the small formatter below rather than
 * pino-pretty (its colours, time formats and transport worker are more than a one-line
 * renderer needs). Logs go to stderr: stdout stays free for `--json` statistics.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function scalar(v: unknown): string {
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** One JSON log line → one readable line (exported for tests). */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const t = new Date(typeof o.time === 'number' ? o.time : Date.now()).toISOString().slice(11, 23);
  const lvl = (LEVELS[o.level as number] ?? String(o.level)).padEnd(5);
  const rest = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${scalar(v)}`)
    .join(' ');
  return `${t} ${lvl} ${String(o.msg ?? '')}${rest ? ` ${rest}` : ''}\n`;
}

/** A pino destination that renders each line with `prettyLine`. */
function prettyStream(out: NodeJS.WritableStream): { write(s: string): void } {
  return { write: (s: string) => void out.write(prettyLine(s)) };
}

export interface LogOptions {
  level?: LevelWithSilent;
  /** Force a format (default: pretty when the stream is a TTY). */
  pretty?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createLogger(o: LogOptions = {}): Logger {
  const out = o.stream ?? process.stderr;
  const pretty = o.pretty ?? Boolean((out as { isTTY?: boolean }).isTTY);
  const opts = { level: o.level ?? 'info', base: { service: 'ghost-alps' } };
  if (pretty) return pino(opts, prettyStream(out));
  // Synchronous to fd 2: the last lines before an exit (detach, error) must not be lost.
  return pino(opts, out === process.stderr ? pino.destination({ dest: 2, sync: true }) : out);
}
