import type { CommandModule } from 'yargs';

/**
 * Every `ghost-alps` command, one module each under this folder. Add a command by importing
 * its module here; keep the list in the order `--help` should show them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [];
