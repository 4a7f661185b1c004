/**
 * Machine files: the one place a MachineProfile (src/core/sim.ts) is validated and applied.
 *
 * A machine file is JSON, checked against a JSON Schema by ajv (the project's schema library,
 * as src/service/config.ts checks agent configs), every error reported, each naming the file and
 * the field: `machine /tmp/vm.json: cpuCapacity: must be > 0`. Any such error is an InputError
 * (exit 3). `ghost-alps calibrate` writes these files; `simulate --machine FILE` and
 * `compare --real --machine FILE` read them. Format and how each field was measured:
 * docs/simulator.md, "Machine files".
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { MachineProfile, Workload } from '../core/index.js';
import { InputError } from '../core/index.js';
import { DEFAULT_BASE_SLICE_NS } from './linux.js';

/** The `format` value of this version of the file. */
export const MACHINE_FORMAT = 'ghost-alps-machine/1';

/** An ideal host: the simulator's behaviour without a machine file. */
export const DEFAULT_MACHINE: Readonly<MachineProfile> = Object.freeze({
  hz: 250,
  ctxSwitchNs: 2_000,
  launchCpuNs: 0,
  cpuCapacity: 1,
  backgroundLoad: 0,
  baseSliceNs: DEFAULT_BASE_SLICE_NS,
});

/** A machine file: the profile, its format tag and optional provenance (how it was measured). */
export interface MachineFile extends MachineProfile {
  format: typeof MACHINE_FORMAT;
  description?: string;
  /** Free-form record of the measurement (host, kernel, command, fit error). */
  provenance?: Record<string, unknown>;
}

const num = (minimum: number, maximum: number, exclusiveMinimum = false): object =>
  exclusiveMinimum ? { type: 'number', exclusiveMinimum: minimum, maximum } : { type: 'number', minimum, maximum };

const MACHINE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'hz', 'ctxSwitchNs', 'launchCpuNs', 'cpuCapacity', 'backgroundLoad', 'baseSliceNs'],
  properties: {
    format: { type: 'string', const: MACHINE_FORMAT },
    description: { type: 'string' },
    hz: { type: 'integer', minimum: 10, maximum: 10_000 },
    // Bounds are sanity limits, far outside any real host: a typo (ms for ns) fails loudly.
    ctxSwitchNs: num(0, 10_000_000),
    launchCpuNs: num(0, 10_000_000_000),
    cpuCapacity: num(0, 100, true),
    backgroundLoad: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    baseSliceNs: num(1_000, 1_000_000_000),
    provenance: { type: 'object' },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const check = ajv.compile<MachineFile>(MACHINE_SCHEMA);

function problemOf(e: ErrorObject): string {
  const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  switch (e.keyword) {
    case 'additionalProperties':
      return `${String((e.params as { additionalProperty: string }).additionalProperty)}: unknown field (known: ${Object.keys(MACHINE_SCHEMA.properties).join(', ')})`;
    case 'required':
      return `${String((e.params as { missingProperty: string }).missingProperty)}: is required`;
    case 'const':
      return `${field}: must be "${MACHINE_FORMAT}"`;
    default:
      return `${field || '(file)'}: ${e.message ?? e.keyword}`;
  }
}

/** Checks a parsed machine file; `where` names it in errors. */
export function validateMachineFile(value: unknown, where: string): MachineFile {
  if (check(value)) return value;
  const problems = (check.errors ?? []).map(problemOf);
  throw new InputError(`machine ${where}`, problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`);
}

/** The profile part of a machine file (what SimOptions.machine takes). */
export function profileOf(f: MachineProfile): MachineProfile {
  const { hz, ctxSwitchNs, launchCpuNs, cpuCapacity, backgroundLoad, baseSliceNs } = f;
  return { hz, ctxSwitchNs, launchCpuNs, cpuCapacity, backgroundLoad, baseSliceNs };
}

/** Checks a profile handed to the simulator directly (SimOptions.machine), by the same schema. */
export function validateMachineProfile(p: MachineProfile, where = 'options.machine'): MachineProfile {
  return profileOf(validateMachineFile({ format: MACHINE_FORMAT, ...profileOf(p) }, where));
}

/** Reads and validates a machine file. */
export function readMachineFile(path: string): MachineFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new InputError(`machine ${path}`, code === 'ENOENT' ? 'no such file' : 'is a directory');
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`machine ${path}`, `not JSON: ${(e as Error).message}`);
  }
  return validateMachineFile(value, path);
}

/** The file text for a profile (what `calibrate` writes). */
export function formatMachineFile(p: MachineProfile, description: string, provenance: Record<string, unknown>): string {
  const f: MachineFile = { format: MACHINE_FORMAT, description, ...profileOf(p), provenance };
  validateMachineFile(f, '(generated)');
  return `${JSON.stringify(f, null, 2)}\n`;
}

/** True when the profile changes nothing about the workload's CPU phases. */
function neutral(p: MachineProfile): boolean {
  return p.launchCpuNs === 0 && p.cpuCapacity === 1 && p.backgroundLoad === 0;
}

/**
 * The workload as it runs on machine `p`: each CPU phase takes demand / (cpuCapacity ×
 * (1 − backgroundLoad)) ns, and every invocation first runs `launchCpuNs` of this machine's own
 * CPU (measured here, so not scaled by the capacity) stretched by the background alone.
 * Background load is modelled as uniform processor sharing: on a busy host timers and kernel
 * threads steal a fixed share of every CPU, which slows every run equally.
 */
export function applyMachine(w: Workload, p: MachineProfile): Workload {
  if (neutral(p)) return w;
  const share = 1 - p.backgroundLoad;
  const speed = p.cpuCapacity * share;
  const launch = Math.round(p.launchCpuNs / share);
  return {
    ...w,
    invocations: w.invocations.map((inv) => ({
      ...inv,
      phases: [
        ...(launch > 0 ? [{ kind: 'cpu' as const, ns: launch }] : []),
        ...inv.phases.map((ph) => (ph.kind === 'cpu' && ph.ns > 0 ? { kind: 'cpu' as const, ns: Math.max(1, Math.round(ph.ns / speed)) } : ph)),
      ],
    })),
  };
}
