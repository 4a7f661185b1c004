#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { reportAndExit } from './errors.js';
import { buildParser, INTRO, normaliseArgv } from './program.js';

// Command modules import their heavy dependencies (simulator, charts, telemetry, native addons)
// inside their handlers, so `--version`, `--help` and a refused flag start in a few tens of ms
// (`npm run bench -- cli` keeps that measured against `node -e 0`).
async function main(argv: string[]): Promise<void> {
  const cli = buildParser(argv, commands, reportAndExit);
  if (argv.length === 0) {
    process.stdout.write(`${INTRO}\n\nCommands:\n`);
    cli.showHelp((s) => process.stdout.write(`${s.split('\nCommands:\n')[1] ?? s}\n`));
    return;
  }
  await cli.parseAsync();
}

// `ghost-alps … | head` closes our stdout early: stop quietly instead of dumping a stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  reportAndExit(err);
});

// Errors raised outside a command's promise chain (an emitter without an 'error' listener, a
// callback that throws) end the same way: one line and the documented exit code, never a stack.
process.on('uncaughtException', reportAndExit);
process.on('unhandledRejection', reportAndExit);

main(normaliseArgv(hideBin(process.argv))).catch(reportAndExit);
