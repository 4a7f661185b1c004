/**
 * Import cycles anywhere in src/, test/ and benchmarks/, `import type` included (eslint's
 * import/no-cycle cannot see a cycle with a type-only edge, like learner/artifact.ts importing
 * types from learn.ts while learn.ts imports artifact.ts). Run by `npm run lint` (so `npm test`);
 * the layer rules are eslint's (eslint.config.js, docs/architecture.md).
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycle: move what both sides need into a module of its own (docs/architecture.md).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|build|node_modules|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
