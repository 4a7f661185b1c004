import type { CliCommand } from '../program.js';
import { simulateCommand } from './simulate.js';
import { learnCommand } from './learn.js';
import { reproduceCommand } from './reproduce.js';
import { vmCommand } from './vm.js';
import { replCommand } from './repl.js';
import { dashboardCommand } from './dashboard.js';
import { agentCommand } from './agent.js';
import { execCommand } from './exec.js';
import { compareCommand } from './compare.js';
import { calibrateCommand } from './calibrate.js';
import { serviceCommand } from './service.js';

/**
 * Every `ghost-alps` command, one module each under this folder. Add a command by importing
 * its module here; keep the list in the order `--help` should show them. A command module
 * imports only what its flags need; its handler imports the rest (start-up time).
 */
export const commands = [simulateCommand, learnCommand, reproduceCommand, vmCommand, replCommand, dashboardCommand, agentCommand, execCommand, compareCommand, calibrateCommand, serviceCommand] as unknown as CliCommand[];
