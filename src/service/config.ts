/**
 * The agent's config file (`ghost-alps agent --config FILE`). One format: YAML, because an
 * operator's config carries comments (why α is 3 on this host), a Kubernetes ConfigMap is
 * YAML anyway, and YAML 1.2 is a superset of JSON, so a JSON file is accepted as it is.
 *
 * Validation is a JSON Schema checked by ajv (every error, not just the first); each error is
 * mapped back to the YAML node it came from, so the message names the key *and* its line:
 * `/etc/ghost-alps/agent.yaml:7: learner.alpah: unknown key`. Any such error is an InputError
 * (exit 3). Flags override the file: see `mergeFlags`.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { InputError } from '../core/errors.js';

export const DEFAULT_CONFIG_PATH = '/etc/ghost-alps/agent.yaml';

/** The learner parameters an operator may set (the rest keep the mode's defaults). */
export interface LearnerConfig {
  alpha?: number;
  beta?: number;
  gamma?: number;
  theta?: number;
  /** Learning window W, milliseconds (the agent learns once per window). */
  windowMs?: number;
  maxRecords?: number;
  model?: 'avg' | 'linreg' | 'forest' | 'ewma';
  mode?: 'paper' | 'artifact';
  ioAware?: boolean;
  /** CPUs the learner's SRPT replay models (default: the host's, or the enclave's). */
  cpus?: number;
  seed?: number;
}

export interface KubernetesConfig {
  /** Map pods' cgroups to functions (default true when this section is present). */
  enabled?: boolean;
  /** Pod label or annotation whose value names the function (default ghost-alps.io/function). */
  key?: string;
  /** cgroup v2 mount (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** How often to rescan for new pods, milliseconds (default 5000). */
  rescanMs?: number;
  /** Where pod labels come from: the API server (in-cluster service account) or a JSON file. */
  pods?: 'api' | string;
  /** This node's name (default $NODE_NAME, set by the DaemonSet from spec.nodeName). */
  nodeName?: string;
}

export interface AgentConfig {
  backend?: 'scx' | 'ghost';
  /** Run the learner (otherwise the initial policy, if any, stays). */
  learn?: boolean;
  learner?: LearnerConfig;
  /** Initial Policy JSON. */
  policyFile?: string;
  sliceMs?: number;
  runnableTimeoutMs?: number;
  /** WebSocket telemetry port on 127.0.0.1 (absent: off). */
  telemetry?: number;
  /** Prometheus endpoint HOST:PORT (absent: off). */
  metrics?: string;
  log?: { level?: 'debug' | 'info' | 'warn' | 'error' };
  /** Print agent statistics as JSON lines on stdout. */
  json?: boolean;
  functions?: {
    /** Names of functions launched with `ghost-alps exec --func NAME`, so metrics and logs show names, not ids. */
    names?: string[];
    /** cgroup directory → function name. */
    cgroups?: Record<string, string>;
    /** JSON file with the same shape (what --cgroup-map takes). */
    cgroupMapFile?: string;
    kubernetes?: KubernetesConfig;
  };
  /** ghOSt backend. */
  ghost?: {
    cpus?: string;
    enclave?: number;
    globalCpu?: number;
    policy?: 'alps' | 'fifo' | 'cfs';
    abi?: number;
    destroyOnExit?: boolean;
    registry?: string;
  };
  /** sched_ext backend. */
  scx?: { tagsPin?: string };
}

const num = (minimum: number, maximum: number, integer = false) => ({ type: integer ? 'integer' : 'number', minimum, maximum, nullable: true }) as const;

/**
 * Ranges here are the ones the agent enforces (learner: src/learner/params.ts; --scx slices and
 * watchdog: src/cli/agent-scx.ts); the learner re-validates the merged parameters on every change.
 */
export const CONFIG_SCHEMA: JSONSchemaType<AgentConfig> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    backend: { type: 'string', enum: ['scx', 'ghost'], nullable: true },
    learn: { type: 'boolean', nullable: true },
    learner: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        alpha: num(0, 1000),
        beta: num(0, 1000),
        gamma: { type: 'number', exclusiveMinimum: 0, maximum: 1000, nullable: true },
        theta: num(0, 100),
        windowMs: { type: 'integer', minimum: 1, maximum: 86_400_000, nullable: true },
        maxRecords: num(1, 10_000_000, true),
        model: { type: 'string', enum: ['avg', 'linreg', 'forest', 'ewma'], nullable: true },
        mode: { type: 'string', enum: ['paper', 'artifact'], nullable: true },
        ioAware: { type: 'boolean', nullable: true },
        cpus: num(1, 4096, true),
        seed: num(0, 0xffff_ffff, true),
      },
    },
    policyFile: { type: 'string', minLength: 1, nullable: true },
    sliceMs: { type: 'number', exclusiveMinimum: 0, maximum: 1000, nullable: true },
    runnableTimeoutMs: num(0, 30_000, true),
    telemetry: num(0, 65535, true),
    metrics: { type: 'string', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):\\d{1,5}$', nullable: true },
    log: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: { level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], nullable: true } },
    },
    json: { type: 'boolean', nullable: true },
    functions: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        names: { type: 'array', nullable: true, items: { type: 'string', minLength: 1 } },
        cgroups: { type: 'object', nullable: true, required: [], additionalProperties: { type: 'string', minLength: 1 } },
        cgroupMapFile: { type: 'string', minLength: 1, nullable: true },
        kubernetes: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', nullable: true },
            key: { type: 'string', minLength: 1, nullable: true },
            cgroupRoot: { type: 'string', minLength: 1, nullable: true },
            rescanMs: { type: 'integer', minimum: 100, maximum: 3_600_000, nullable: true },
            pods: { type: 'string', minLength: 1, nullable: true },
            nodeName: { type: 'string', minLength: 1, nullable: true },
          },
        },
      },
    },
    ghost: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        cpus: { type: 'string', pattern: '^\\s*\\d+(-\\d+)?(\\s*,\\s*\\d+(-\\d+)?)*\\s*$', nullable: true },
        enclave: num(0, 1_000_000, true),
        globalCpu: num(0, 4095, true),
        policy: { type: 'string', enum: ['alps', 'fifo', 'cfs'], nullable: true },
        abi: num(0, 1000, true),
        destroyOnExit: { type: 'boolean', nullable: true },
        registry: { type: 'string', minLength: 1, nullable: true },
      },
    },
    scx: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: { tagsPin: { type: 'string', nullable: true } },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(CONFIG_SCHEMA);

/** Where an error points: the key's dotted path and its 1-based line (0 when unknown). */
export interface ConfigProblem {
  key: string;
  line: number;
  problem: string;
}

/** Every problem of a config file, each naming the key and the line. */
export class ConfigError extends InputError {
  override readonly name: string = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      problems.length === 1 ? `config ${file}:${problems[0]!.line}` : `config ${file}`,
      problems.length === 1
        ? `${problems[0]!.key}: ${problems[0]!.problem}`
        : `${problems.length} problems: ${problems.map((p) => `${file}:${p.line}: ${p.key}: ${p.problem}`).join('; ')}`,
    );
  }
}

function segments(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Line of the node at `path` (for `keyOf`: of that key within the map at `path`). */
function lineOf(doc: Document, lc: LineCounter, path: string[], keyOf?: string): number {
  const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
  let offset: number | undefined;
  if (keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === keyOf);
    if (pair && isScalar(pair.key)) offset = pair.key.range?.[0];
  } else if (node && typeof node === 'object' && 'range' in node) {
    offset = (node as { range?: [number, number, number] }).range?.[0];
  }
  // A value's own line is the best place; for a key that is absent, the enclosing map's.
  return offset === undefined ? 0 : lc.linePos(offset).line;
}

function describe(e: ErrorObject): { extraKey?: string; missing?: string; problem: string } {
  switch (e.keyword) {
    case 'additionalProperties': {
      const k = String((e.params as { additionalProperty: string }).additionalProperty);
      return { extraKey: k, problem: 'unknown key' };
    }
    case 'enum':
      return { problem: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(' | ')}` };
    case 'type':
      return { problem: `must be ${(e.params as { type: string }).type}` };
    case 'required':
      return { missing: String((e.params as { missingProperty: string }).missingProperty), problem: 'is required' };
    default:
      return { problem: e.message ?? e.keyword };
  }
}

/** Allowed keys of the object at `path` in the schema, for the "unknown key" hint. */
function allowedKeys(path: string[]): string[] {
  let s: { properties?: Record<string, unknown> } | undefined = CONFIG_SCHEMA as unknown as { properties?: Record<string, unknown> };
  for (const p of path) s = s?.properties?.[p] as typeof s;
  return Object.keys(s?.properties ?? {});
}

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): AgentConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ key: '(syntax)', line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, problem: e.message.split('\n')[0]! })),
    );
  }
  const value: unknown = doc.toJS() ?? {};
  if (validate(value)) return value;
  const problems: ConfigProblem[] = [];
  for (const e of validate.errors ?? []) {
    const path = segments(e.instancePath);
    const d = describe(e);
    if (d.extraKey !== undefined) {
      const allowed = allowedKeys(path);
      problems.push({
        key: [...path, d.extraKey].join('.'),
        line: lineOf(doc, lc, path, d.extraKey),
        problem: `unknown key${allowed.length ? ` (allowed here: ${allowed.join(', ')})` : ''}`,
      });
    } else {
      problems.push({ key: path.join('.') || '(top level)', line: lineOf(doc, lc, path), problem: d.problem });
    }
  }
  throw new ConfigError(file, problems);
}

/** Reads and validates a config file (InputError naming the file when it cannot be read). */
export function loadConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`config ${file}`, (e as Error).message);
  }
  return parseConfig(text, file);
}

/** The agent flags a config key stands for (flag name → how it lands in the config). */
const FLAG_TO_CONFIG: Record<string, (c: AgentConfig, v: unknown) => void> = {
  ghost: (c, v) => v && (c.backend = 'ghost'),
  scx: (c, v) => v && (c.backend = 'scx'),
  learn: (c, v) => (c.learn = Boolean(v)),
  'policy-file': (c, v) => (c.policyFile = String(v)),
  'slice-ms': (c, v) => (c.sliceMs = Number(v)),
  'runnable-timeout-ms': (c, v) => (c.runnableTimeoutMs = Number(v)),
  telemetry: (c, v) => (c.telemetry = Number(v)),
  metrics: (c, v) => (c.metrics = String(v)),
  json: (c, v) => (c.json = Boolean(v)),
  'cgroup-map': (c, v) => ((c.functions ??= {}).cgroupMapFile = String(v)),
  'tags-pin': (c, v) => ((c.scx ??= {}).tagsPin = String(v)),
  cpus: (c, v) => ((c.ghost ??= {}).cpus = String(v)),
  enclave: (c, v) => ((c.ghost ??= {}).enclave = Number(v)),
  'global-cpu': (c, v) => ((c.ghost ??= {}).globalCpu = Number(v)),
  policy: (c, v) => ((c.ghost ??= {}).policy = String(v) as 'alps'),
  abi: (c, v) => ((c.ghost ??= {}).abi = Number(v)),
  'destroy-on-exit': (c, v) => ((c.ghost ??= {}).destroyOnExit = Boolean(v)),
  registry: (c, v) => ((c.ghost ??= {}).registry = String(v)),
};
export const OVERRIDABLE_FLAGS = Object.keys(FLAG_TO_CONFIG);

/**
 * The flags the user actually typed (not yargs defaults): `--name`, `--name=v`, `--no-name`.
 * Only these override the file, so a default of a flag never hides a value from the config.
 */
export function explicitFlags(argv: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const a of argv) {
    if (a === '--') break;
    const m = /^--(?:no-)?([a-z][a-z0-9-]*)(?:=.*)?$/.exec(a);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** The file's config with every explicitly given flag applied on top (flags win). */
export function mergeFlags(file: AgentConfig, argv: Record<string, unknown>, given: ReadonlySet<string>): AgentConfig {
  const c: AgentConfig = structuredClone(file);
  if (given.has('ghost') && given.has('scx') && argv.ghost && argv.scx) throw new InputError('--ghost/--scx', 'give one backend, not both');
  for (const flag of OVERRIDABLE_FLAGS) {
    if (!given.has(flag) || argv[flag] === undefined) continue;
    FLAG_TO_CONFIG[flag]!(c, argv[flag]);
  }
  return c;
}

/** HOST:PORT of --metrics / `metrics:` (InputError naming the source when malformed). */
export function parseListen(text: string, source: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new InputError(source, `'${text}' is not HOST:PORT (e.g. 127.0.0.1:9464)`);
  return { host: m[1] ?? m[2]!, port };
}
