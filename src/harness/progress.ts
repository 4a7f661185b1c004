import cliProgress from 'cli-progress';
import type { ProgressSink } from './ab.js';

/**
 * A progress bar on stderr for comparisons that take more than a moment. It appears only when
 * stderr is a terminal and the caller is not printing JSON, and only once a run has lasted
 * `delayMs` (short runs stay quiet).
 */
export function terminalProgress(enabled: boolean, delayMs = 1000): ProgressSink | undefined {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {percentage}% | run {run}/{runs} {label} | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let t0 = 0;
  let label = '';
  let run = 0;
  let runs = 0;
  let overall = 0;
  const show = (frac: number): void => {
    overall = (run - 1 + Math.min(1, Math.max(0, frac))) / runs;
    if (!started) {
      if (performance.now() - t0 < delayMs) return;
      bar.start(100, 0, { run, runs, label });
      started = true;
    }
    bar.update(Math.round(overall * 100), { run, runs, label });
  };
  return {
    start(l, index, total) {
      if (t0 === 0) t0 = performance.now();
      label = l;
      run = index + 1;
      runs = total;
      show(0);
    },
    update(f) {
      show(f);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
