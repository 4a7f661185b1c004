import { InputError } from '../core/errors.js';
import type { AbVariant } from './ab.js';

/**
 * The real ghOSt agent (src/agent/ghost) running on the emulated ghOSt kernel through the native
 * client, driving the simulated machine's CPUs: `alps-ghost` is the delegated ALPS agent,
 * `ghost-cfs` and `ghost-fifo` the baseline agents sharing its machinery (paper Fig. 15).
 */
export const GHOST_AGENT_SCHEDULERS = ['alps-ghost', 'ghost-cfs', 'ghost-fifo'] as const;
const GHOST_AGENT_KIND = { 'alps-ghost': 'alps', 'ghost-cfs': 'cfs', 'ghost-fifo': 'fifo' } as const;

/** Scheduler models every simulator build has (src/core/sim.ts), plus the ghOSt agents. */
export const KNOWN_SCHEDULERS = ['cfs', 'eevdf', 'fifo', 'rr', 'sfs', 'srpt', 'alps', 'alps-delegated', ...GHOST_AGENT_SCHEDULERS] as const;

/**
 * Parse `--schedulers`: comma-separated names, each optionally with `:io-aware` (ALPS models:
 * learn from blocking time and voluntary switches too, I/O study §9), e.g.
 * `cfs,alps,alps:io-aware`. `globalIoAware` applies io-awareness to every ALPS run.
 */
export function parseSchedulerList(spec: string, globalIoAware = false, flag = '--schedulers'): AbVariant[] {
  const tokens = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (tokens.length === 0) throw new InputError(flag, 'names no scheduler');
  const seen = new Set<string>();
  return tokens.map((tok) => {
    const [name, ...mods] = tok.split(':');
    if (!(KNOWN_SCHEDULERS as readonly string[]).includes(name!)) {
      throw new InputError(flag, `unknown scheduler "${name}" (known: ${KNOWN_SCHEDULERS.join(', ')})`);
    }
    let ioAware = globalIoAware && name!.startsWith('alps');
    for (const m of mods) {
      if (m !== 'io-aware') throw new InputError(flag, `unknown modifier ":${m}" in "${tok}" (known: io-aware)`);
      if (!name!.startsWith('alps')) throw new InputError(flag, `":io-aware" applies to ALPS models only, not "${name}"`);
      ioAware = true;
    }
    if (seen.has(tok)) throw new InputError(flag, `"${tok}" is listed twice`);
    seen.add(tok);
    const v: AbVariant = { scheduler: name!, label: tok };
    if (ioAware) v.options = { learner: { ioAware: true } };
    return v;
  });
}

/**
 * Give every ghOSt-agent variant its own simulate(): the machine with a fresh real agent on a
 * fresh emulated kernel per run. Imported on demand, so a build without the native addon can
 * still simulate the in-kernel models (and gets a clear error only if it asks for an agent).
 */
export async function attachGhostAgents(variants: AbVariant[]): Promise<void> {
  const wanted = variants.filter((v) => v.scheduler in GHOST_AGENT_KIND);
  if (wanted.length === 0) return;
  const [{ simulate }, { EmulatedGhostAgent }] = await Promise.all([import('../sim/index.js'), import('../agent/ghost/sim-agent.js')]);
  for (const v of wanted) {
    const kind = GHOST_AGENT_KIND[v.scheduler as keyof typeof GHOST_AGENT_KIND];
    v.simulate = (workload, options) => simulate(workload, options, { agent: new EmulatedGhostAgent(kind) });
  }
}
