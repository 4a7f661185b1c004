/**
 * Text that came from outside (trace names, file names, flag values, a remote publisher's
 * function names, error messages quoting them) goes through `safeText` before it reaches a
 * terminal: C0/C1 control characters and DEL could otherwise move the cursor, retitle the
 * window or clear the screen (`ESC ] 0 ; … BEL`, `ESC [ 2 J`). They are shown as visible escapes
 * (`\x1b`, `\u009b`) so the reader still sees that something odd was there.
 */

// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides
// (which reorder what a terminal shows without being "control characters" to ASCII).
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- as above, with \n allowed
const UNSAFE_KEEP_NL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `s` with every control character replaced by a visible escape. With `keepNewlines`, `\n`
 * stays (multi-line output such as a table); otherwise the result is one line.
 */
export function safeText(s: string, opts: { keepNewlines?: boolean } = {}): string {
  return String(s).replace(opts.keepNewlines ? UNSAFE_KEEP_NL : UNSAFE, visible);
}

/** True when `s` holds a character `safeText` would escape (tests use it on terminal output). */
export function hasControlChars(s: string, opts: { allowNewlines?: boolean } = {}): boolean {
  const re = opts.allowNewlines ? UNSAFE_KEEP_NL : UNSAFE;
  re.lastIndex = 0;
  const found = re.test(s);
  re.lastIndex = 0;
  return found;
}
