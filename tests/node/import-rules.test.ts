/**
 * The import rules (.dependency-cruiser.mjs), checked with dependency-cruiser: the project's
 * sources break none, and the rules do catch what they forbid, shown on a small fixture tree with
 * one violation of each kind (an upward import, tfjs reached from a catalog directly and through
 * another module, the page reaching tfjs and importing the worker side, a cycle through a
 * type-only import, the CLI importing the app, the page importing tfjs-vis's root) next to what is
 * allowed (the page's lazy import() of the worker side, tfjs-vis's deep renderer modules,
 * downward imports).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What the rules cover: the layers (entry points and tests import them; nothing imports those back). */
const SOURCES = ['datasets', 'models', 'src'];

let options: ICruiseOptions;
beforeAll(async () => {
  options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.mjs'));
});

async function violations(baseDir: string, opts: ICruiseOptions, transpile = {}): Promise<string[]> {
  const cwd = process.cwd();
  process.chdir(baseDir); // dependency-cruiser reads the file arguments and reports paths relative to the working directory
  try {
    const { output } = await cruise(SOURCES, { ...opts, baseDir }, {}, transpile);
    const result = output as ICruiseResult;
    return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
  } finally {
    process.chdir(cwd);
  }
}

describe('import rules', () => {
  it("the project's sources break none of them", async () => {
    const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
    expect(await violations(ROOT, options, { tsConfig })).toEqual([]);
  }, 60_000);

  describe('catch what they forbid (a fixture tree)', () => {
    let dir: string;
    const files: Record<string, string> = {
      // tfjs straight from a catalog, and through a module a catalog imports.
      'datasets/catalog.ts': "import * as tf from '@tensorflow/tfjs';\nexport const rank = tf.rank;\n",
      'models/catalog.ts': "import { shapes } from './shapes.ts';\nexport const catalog = shapes;\n",
      'models/shapes.ts': "import type { Tensor } from '@tensorflow/tfjs';\nexport const shapes: Tensor[] = [];\n",
      // An upward import: datasets -> engine.
      'datasets/index.ts': "import { DEFAULT } from '../src/engine/config.ts';\nexport const d = DEFAULT;\n",
      // Downward imports are allowed.
      'src/engine/config.ts': "import { catalog } from '../../models/catalog.ts';\nimport { next } from '../rng.ts';\nexport const DEFAULT = { catalog, next };\n",
      'src/rng.ts': 'export const next = () => 4;\n',
      // A cycle, one side of it type-only.
      'src/acquisition/strategies.ts': "import { badge } from './badge.ts';\nexport interface Strategy { name: string }\nexport const all = [badge];\n",
      'src/acquisition/badge.ts': "import type { Strategy } from './strategies.ts';\nexport const badge: Strategy = { name: 'badge' };\n",
      // The page: a static import of the worker side (which loads tfjs) is refused; the lazy
      // fallback's dynamic import() is allowed.
      'src/app/main.ts': "import { host } from './host/engine-host.ts';\nimport { start } from './client.ts';\nexport const app = [host, start];\n",
      'src/app/client.ts': "export const start = () => import('./host/engine-host.ts');\n",
      // tfjs-vis: the renderers that load no tfjs-core are allowed; its root (which does) is not.
      'src/app/views/chart.ts': "import { linechart } from '@tensorflow/tfjs-vis/dist/render/linechart';\nimport { table } from '@tensorflow/tfjs-vis/dist/render/table';\nexport const chart = [linechart, table];\n",
      'src/app/views/visor.ts': "import * as tfvis from '@tensorflow/tfjs-vis';\nexport const visor = tfvis.visor;\n",
      'src/app/host/engine-host.ts': "import * as tf from '@tensorflow/tfjs';\nexport const host = tf.ready;\n",
      // The CLI and the app are apart.
      'src/cli/experiment.ts': "import { app } from '../app/main.ts';\nexport const cli = app;\n",
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'activelab-import-rules-'));
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('each kind of violation, and nothing that is allowed', async () => {
      const { tsConfig: _projectOnly, ...fixtureOptions } = options;
      expect(await violations(dir, fixtureOptions)).toEqual([
        'catalogs-reach-no-tfjs: datasets/catalog.ts -> @tensorflow/tfjs',
        'catalogs-reach-no-tfjs: models/catalog.ts -> @tensorflow/tfjs',
        'catalog-readers-reach-no-tfjs: src/engine/config.ts -> @tensorflow/tfjs',
        'cli-and-app-apart: src/cli/experiment.ts -> src/app/main.ts',
        'datasets-imports-only-downward: datasets/index.ts -> src/engine/config.ts',
        // A cycle is reported once, at the edge that closes it.
        'no-circular: src/acquisition/badge.ts -> src/acquisition/strategies.ts',
        'page-not-to-worker-side: src/app/main.ts -> src/app/host/engine-host.ts',
        'page-reaches-no-tfjs: src/app/main.ts -> @tensorflow/tfjs',
        'page-uses-only-tfjs-vis-renderers: src/app/views/visor.ts -> @tensorflow/tfjs-vis',
      ].sort());
    }, 60_000);
  });
});
