import { createReadStream, statSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../../core/errors.js';

/**
 * Longest line a trace may have, in characters. A record line is well under 1 kB; the cap
 * keeps a hostile or corrupt file (one 600 MB line) from growing one string without bound
 * (readline would buffer it whole and then fail with "Invalid string length").
 */
export const MAX_TRACE_LINE_CHARS = 1 << 20;

export interface Line {
  /** 1-based line number. */
  n: number;
  /** The line without its terminator (`\n` or `\r\n`) and, on line 1, without a UTF-8 BOM. */
  text: string;
}

/**
 * Lines of a stream, read chunk by chunk: memory is bounded by the chunk size plus one line of
 * at most `maxChars`. Stops reading as soon as the consumer stops iterating (so a reader that
 * needs only the first N rows of a 200 MB file reads only what holds them).
 */
export async function* readLines(input: Readable, label: string, maxChars = MAX_TRACE_LINE_CHARS): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let n = 0;
  const emit = (raw: string): Line => {
    n++;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (n === 1) text = text.replace(/^\uFEFF/, '');
    return { n, text };
  };
  for await (const chunk of input) {
    const s = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      const raw = partial + s.slice(start, nl);
      partial = '';
      if (raw.length > maxChars + 1) throw new InputError(`${label}:${n + 1}`, `line longer than ${maxChars} characters`);
      yield emit(raw);
      start = nl + 1;
    }
    partial += s.slice(start);
    if (partial.length > maxChars + 1) throw new InputError(`${label}:${n + 1}`, `line longer than ${maxChars} characters`);
  }
  partial += decoder.end();
  if (partial !== '') yield emit(partial);
}

/** Make an open error a named input problem (permission errors keep their code: exit 5). */
export function openError(path: string, err: unknown, what = 'cannot read'): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return Object.assign(new Error(`${path}: ${what}: permission denied`), { code });
  return new InputError(path, `${what}: ${code === 'ENOENT' ? 'ENOENT (no such file or directory)' : (code ?? (err as Error).message)}`);
}

/**
 * Open a trace file for streaming: a directory or a missing or unreadable file is reported
 * before the first line, naming the path.
 */
export async function openTraceFile(path: string): Promise<Readable> {
  try {
    if (statSync(path).isDirectory()) throw new InputError(path, 'is a directory, not a trace file');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw openError(path, err);
  }
  const input = createReadStream(path, { highWaterMark: 64 * 1024 });
  try {
    await once(input, 'open');
  } catch (err) {
    throw openError(path, err);
  }
  return input;
}
