#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { reportAndExit } from './errors.js';

const INTRO = `ghost-alps: ALPS serverless scheduling — learn a policy, enforce it in-kernel (sched_ext)
or delegated (ghOSt), and compare schedulers.

Try first:
  ghost-alps simulate                compare CFS, EEVDF, SRPT, SFS and ALPS on a simulated 8-CPU host
  ghost-alps learn --help            learn a policy from an invocation trace
  ghost-alps repl --sim huawei       steer the learner live on a simulated host (.set alpha 3, .next)
  ghost-alps dashboard --sim huawei  the same live run as a page on http://127.0.0.1:8090/
  ghost-alps <command> --help        every command has a worked example
  source <(ghost-alps completion)    tab completion in bash/zsh`;

async function main(argv: string[]): Promise<void> {
  let cli = yargs(argv)
    .scriptName('ghost-alps')
    .usage(INTRO)
    .strict()
    .recommendCommands()
    .completion('completion', 'print a bash/zsh completion script')
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`ghost-alps: ${msg}\n(run with --help for usage)\n`);
      process.exit(2);
    });
  for (const c of commands) cli = cli.command(c);
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
  throw err;
});

main(hideBin(process.argv)).catch(reportAndExit);
