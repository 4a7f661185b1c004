/** Benchmark suites by name. Each takes the remaining argv (e.g. ['--json']). */
export type Suite = (argv: string[]) => Promise<void>;

export const suites: Record<string, Suite> = {
  sim: (argv) => import('./sim.js').then((m) => m.simBench(argv)),
  vm: (argv) => import('./vm.js').then((m) => m.vmBench(argv)),
  learner: (argv) => import('./learner.js').then((m) => m.learnerBench(argv)),
  agent: (argv) => import('./agent.js').then((m) => m.agentSuite(argv)),
  live: (argv) => import('./live.js').then((m) => m.liveBench(argv)),
  bpf: (argv) => import('./bpf.js').then((m) => m.bpfBench(argv)),
  cli: (argv) => import('./cli.js').then((m) => m.cliBench(argv)),
};
