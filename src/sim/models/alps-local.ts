import type { Ns } from '../../core/index.js';
import type { SimTask } from '../task.js';
import { AlpsModel } from './alps.js';

/**
 * Delegated ALPS with per-CPU ("local") ghOSt agents, the setting of the per-decision cost the
 * ALPS paper quotes (Table 3: 725 ns message delivery + 888 ns local transaction = 1,613 ns).
 * Decisions are the in-kernel ALPS model's, so the comparison with `alps` isolates the cost of
 * delegation: every switch to a task first runs the CPU's agent for message + transaction.
 */
export class AlpsLocalAgentModel extends AlpsModel {
  override readonly name: string = 'alps-delegated';

  constructor(ncpus: number, private readonly decisionNs: Ns) {
    super(ncpus);
  }

  switchCostNs(_cpu: number, _t: SimTask): Ns {
    return this.decisionNs;
  }
}
