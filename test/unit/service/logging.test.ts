import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, prettyLine } from '../../../src/service/logging.js';

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

test('not a TTY: one JSON object per line with the fields as given', () => {
  const s = sink();
  const log = createLogger({ stream: s.stream, pretty: false });
  log.info({ event: 'policy', generation: 4, alpha: 3.5 }, 'policy generation 4');
  log.debug({ event: 'hidden' }, 'below the level');
  assert.equal(s.lines.length, 1);
  const o = JSON.parse(s.lines[0]!) as Record<string, unknown>;
  assert.equal(o.event, 'policy');
  assert.equal(o.generation, 4);
  assert.equal(o.alpha, 3.5);
  assert.equal(o.level, 30);
  assert.equal(o.msg, 'policy generation 4');
  assert.equal(o.service, 'ghost-alps');
});

test('on a TTY: one readable line, time, level, message, key=value', () => {
  const line = prettyLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 34, 56, 789), msg: 'reload failed', event: 'reload', err: 'bad key', pid: 1, hostname: 'h' }));
  assert.equal(line, '12:34:56.789 WARN  reload failed event=reload err="bad key"\n');
  const s = sink();
  createLogger({ stream: s.stream, pretty: true }).error({ event: 'exit', reason: 'x' }, 'stopped');
  assert.match(s.lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} ERROR stopped service=ghost-alps event=exit reason=x$/);
});
