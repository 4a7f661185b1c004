/**
 * The ghOSt backend's flags from a service config: `runGhostBackend` (src/cli/commands/agent.ts)
 * keeps its own validation, so the config only has to land on the same argument names. Values
 * the config leaves out keep the flags' defaults (what yargs parsed).
 */
import type { AgentConfig } from './config.js';

export function ghostArgsFromConfig(c: AgentConfig, argv: Record<string, unknown>): Record<string, unknown> {
  const g = c.ghost ?? {};
  const out: Record<string, unknown> = { ...argv };
  const set = (k: string, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  set('learn', c.learn ?? false);
  set('policy-file', c.policyFile);
  set('slice-ms', c.sliceMs ?? argv['slice-ms'] ?? 3);
  // The ghOSt watchdog is cheap to trip and recover from (see the agent command).
  set('runnable-timeout-ms', c.runnableTimeoutMs ?? argv['runnable-timeout-ms'] ?? 2000);
  set('json', c.json ?? false);
  set('telemetry', c.telemetry);
  set('cgroup-map', c.functions?.cgroupMapFile);
  set('cpus', g.cpus);
  set('enclave', g.enclave);
  set('global-cpu', g.globalCpu);
  set('policy', g.policy);
  set('abi', g.abi);
  set('destroy-on-exit', g.destroyOnExit);
  set('registry', g.registry);
  if (g.enclave === undefined) delete out['enclave'];
  return out;
}
