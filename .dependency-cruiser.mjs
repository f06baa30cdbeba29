/**
 * ActiveLab's import rules, checked by dependency-cruiser (`npx depcruise datasets models src`,
 * and in `npm test` by tests/node/import-rules.test.ts, which also shows that the rules catch an
 * upward import and tfjs reached from a catalog).
 *
 * - Layers import only downward: datasets/ -> models/ -> src/acquisition/ -> src/engine/ ->
 *   src/charts/ -> src/cli/ and src/app/ (which do not import each other). src/rng.ts,
 *   src/schema.ts and src/backend/ are shared lower modules any layer may use; they import no
 *   layer. Nothing in a layer imports the entry points and tooling (src/index.ts, src/security/,
 *   bench/, tests/).
 * - The catalogs, the configuration and results checks, the CLI's flags and the page reach no
 *   tfjs, not even through a type-only import (so never src/backend/index.ts, which loads
 *   tfjs-backend-wasm and registers kernels). The one exception: the page's Model panel imports
 *   tfjs-vis's render/linechart, barchart and table, which load no tfjs-core; never tfjs-vis's
 *   root, which does. (Modules in node_modules are not followed: the e2e tests check at run time
 *   that the page never loads tfjs.)
 * - The page's only way to the worker side is the lazy fallback, a dynamic import() in
 *   src/app/client.ts: the rules judge the static import graph (dynamic imports are left out).
 * - No cycles, type-only imports included.
 */

/** The worker side of src/app/: the compute host and what starts it. Re-point here when it moves. */
export const WORKER_SIDE = '^src/app/host/';
/** The page: src/app/ but the worker side. */
const PAGE = '^src/app/';

export const CATALOGS = '^(datasets/catalog|models/catalog|src/acquisition/catalog|src/backend/catalog)[.]ts$';
/** What reads the catalogs only: the configuration and results checks and the CLI's flags. */
const CATALOG_READERS = '^(src/engine/(config|results|results-file|results-schema)|src/cli/args)[.]ts$';
const TFJS = '(^|/)@tensorflow/';
/** tfjs-vis: its package root (and e.g. render/heatmap, show/*) loads tfjs-core. */
const TFJS_VIS = '(^|/)@tensorflow/tfjs-vis(/|$)';
/** The tfjs-vis modules that load no tfjs-core (their vega-embed is ours, vite.config.ts): the page may import these. */
export const VIS_RENDERERS = '(^|/)@tensorflow/tfjs-vis/dist/render/(linechart|barchart|table)([.]js)?$';

/** Lowest first; a layer may import the ones before it. */
export const LAYERS = [
  { name: 'shared', path: '^src/(rng|schema)[.]ts$|^src/backend/' },
  { name: 'datasets', path: '^datasets/' },
  { name: 'models', path: '^models/' },
  { name: 'acquisition', path: '^src/acquisition/' },
  { name: 'engine', path: '^src/engine/' },
  { name: 'charts', path: '^src/charts/' },
  { name: 'cli', path: '^src/cli/' },
  { name: 'app', path: '^src/app/' },
];
/** Entry points and tooling: they import the layers; no layer imports them. */
const ENTRIES = '^(src/index[.]ts$|src/security/|bench/|tests/|vite[.]config[.]ts$)';

/** The layers above layer i (cli and app are side by side: the rule 'cli-and-app-apart' keeps them apart). */
const above = (i) => LAYERS.slice(i + 1).filter((l) => !(LAYERS[i].name === 'cli' && l.name === 'app')).map((l) => l.path);

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...LAYERS.map((layer, i) => ({
      name: `${layer.name}-imports-only-downward`,
      comment: `${layer.name} may import only the layers below it (${LAYERS.slice(0, i).map((l) => l.name).join(', ') || 'none'})`,
      severity: 'error',
      from: { path: layer.path },
      to: { path: [...above(i), ENTRIES] },
    })),
    {
      name: 'cli-and-app-apart',
      comment: 'the CLI and the app are siblings on top of the engine: neither imports the other',
      severity: 'error',
      from: { path: '^src/(cli|app)/' },
      to: { path: '^src/(cli|app)/', pathNot: '^src/$1/' },
    },
    {
      name: 'catalogs-reach-no-tfjs',
      comment: 'a catalog is plain data: it reaches no tfjs, directly or through anything it imports',
      severity: 'error',
      from: { path: CATALOGS },
      to: { path: TFJS, reachable: true },
    },
    {
      name: 'catalog-readers-reach-no-tfjs',
      comment: 'resolveConfig, the results checks and the CLI flags read the catalogs only',
      severity: 'error',
      from: { path: CATALOG_READERS },
      to: { path: TFJS, reachable: true },
    },
    {
      name: 'page-reaches-no-tfjs',
      comment: 'the page never loads tfjs (its lazy fallback to the worker side is a dynamic import, left out)',
      severity: 'error',
      from: { path: PAGE, pathNot: WORKER_SIDE },
      to: { path: TFJS, pathNot: TFJS_VIS, reachable: true },
    },
    {
      name: 'page-uses-only-tfjs-vis-renderers',
      comment: "the page may import tfjs-vis's render/linechart, barchart and table only: its root and the rest load tfjs-core",
      severity: 'error',
      from: { path: PAGE, pathNot: WORKER_SIDE },
      to: { path: TFJS_VIS, pathNot: VIS_RENDERERS, reachable: true },
    },
    {
      name: 'page-not-to-worker-side',
      comment: 'the page talks to the compute host through messages (client.ts), never by a static import',
      severity: 'error',
      from: { path: PAGE, pathNot: WORKER_SIDE },
      to: { path: WORKER_SIDE },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { dynamic: true },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
