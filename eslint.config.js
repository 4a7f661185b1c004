import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

/**
 * Layers of src/ (docs/architecture.md): each folder may import only the folders listed for it
 * (and itself). Dependencies point one way, so nothing below imports from above:
 *   core ← learner, workload, native ← sim ← telemetry ← agent ← harness, service, repl ← cli
 * `vm` (qemu runner) needs only core and is used by harness and cli.
 */
const LAYERS = {
  core: [],
  learner: ['core'],
  workload: ['core'],
  native: ['core'],
  sim: ['core', 'learner'],
  telemetry: ['core', 'learner', 'workload', 'sim'],
  agent: ['core', 'learner', 'workload', 'native', 'sim', 'telemetry'],
  vm: ['core'],
  harness: ['core', 'learner', 'workload', 'native', 'sim', 'telemetry', 'agent', 'vm'],
  service: ['core', 'learner', 'workload', 'native', 'sim', 'telemetry', 'agent'],
  repl: ['core', 'learner', 'workload', 'sim', 'telemetry'],
  cli: ['core', 'learner', 'workload', 'native', 'sim', 'telemetry', 'agent', 'vm', 'harness', 'service', 'repl'],
};
const FOLDERS = Object.keys(LAYERS);
const layerZones = FOLDERS.flatMap((layer) =>
  FOLDERS.filter((other) => other !== layer && !LAYERS[layer].includes(other)).map((other) => ({
    target: `./src/${layer}`,
    from: `./src/${other}`,
    message: `src/${layer} may import only ${LAYERS[layer].map((l) => `src/${l}`).join(', ') || 'itself'} (layers: docs/architecture.md).`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', '.cache/**', 'ghost-kernel/vm/.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', performance: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Layering: src/ folders import one way (the LAYERS table above). Import cycles, `import type`
    // included, are dependency-cruiser's job (.dependency-cruiser.mjs, also run by `npm run lint`):
    // import/no-cycle cannot see a cycle that has a type-only edge.
    files: ['src/**/*.ts'],
    plugins: { import: importPlugin },
    settings: {
      'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'import/no-restricted-paths': [
        'error',
        {
          zones: [
            ...layerZones,
            { target: './src', from: './test', message: 'src/ must not depend on tests (test/support is for tests and benchmarks).' },
            { target: './src', from: './benchmarks', message: 'src/ must not depend on benchmarks.' },
          ],
        },
      ],
    },
  },
);
