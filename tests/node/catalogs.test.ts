/**
 * The catalogs (plain data: datasets/catalog.ts, models/catalog.ts, src/acquisition/catalog.ts,
 * src/backend/catalog.ts) and the registries that implement them agree; the dataset catalog is
 * open: a dataset described at run time is checked by resolveConfig exactly like a built-in one.
 * (That the catalogs import no tfjs is checked by tests/node/import-rules.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_DATASETS, DATASET_CATALOG, DATASET_NAMES, DATASETS, DatasetDescriptionError, describeDataset, loadDataset, withDataset,
  type DatasetName,
} from '../../datasets/index.ts';
import { STRATEGY_CATALOG, STRATEGY_NAMES as CATALOG_STRATEGY_NAMES } from '../../src/acquisition/catalog.ts';
import { STRATEGIES, STRATEGY_NAMES } from '../../src/acquisition/strategies.ts';
import { BACKEND_CATALOG, BACKEND_NAMES as CATALOG_BACKEND_NAMES } from '../../src/backend/catalog.ts';
import { BACKEND_NAMES } from '../../src/backend/index.ts';
import { ConfigError, resolveConfig } from '../../src/engine/config.ts';

describe('catalogs and their implementations', () => {
  it('every dataset loader is registered against its catalog entry', () => {
    expect(Object.keys(DATASETS)).toEqual(DATASET_NAMES);
    expect([...BUILTIN_DATASETS.keys()]).toEqual(DATASET_NAMES);
    for (const name of DATASET_NAMES) {
      const { files, defaults, load, ...plain } = DATASETS[name];
      const { name: entryName, hash, ...entry } = DATASET_CATALOG[name];
      expect(entryName).toBe(name);
      expect(hash).toBeNull();
      expect(plain).toEqual(entry);
      expect(typeof load).toBe('function');
      expect(Array.isArray(files) && typeof defaults === 'object').toBe(true);
      expect(entry.classNames).toHaveLength(entry.numClasses);
    }
  });

  it.each(['moons', 'blobs', 'classification'] as DatasetName[])('%s: the catalog states the kind, shape, classes and sizes the loader makes', async (name) => {
    const ds = await loadDataset(name, { seed: 3 });
    const entry = DATASET_CATALOG[name];
    expect({ kind: ds.kind, shape: ds.shape, numClasses: ds.numClasses, classNames: ds.classNames, sizes: { train: ds.train.n, test: ds.test.n } })
      .toEqual({ kind: entry.kind, shape: entry.shape, numClasses: entry.numClasses, classNames: entry.classNames, sizes: entry.sizes });
  });

  it('every strategy implementation carries its catalog entry, in the catalog order', () => {
    expect(STRATEGY_NAMES).toEqual(CATALOG_STRATEGY_NAMES);
    expect(Object.keys(STRATEGIES)).toEqual(Object.keys(STRATEGY_CATALOG));
    for (const name of STRATEGY_NAMES) {
      const s = STRATEGIES[name];
      const { score: _score, select: _select, ...plain } = s as typeof s & { score?: unknown; select?: unknown };
      expect(plain).toEqual(STRATEGY_CATALOG[name]);
      expect(typeof (s.kind === 'score' ? _score : _select)).toBe('function');
    }
  });

  it('the backend catalog names the backends the backend module starts', () => {
    expect(BACKEND_NAMES).toBe(CATALOG_BACKEND_NAMES);
    expect(Object.keys(BACKEND_CATALOG)).toEqual([...BACKEND_NAMES]);
  });
});

const IRIS = { name: 'iris', kind: 'tabular', shape: [4], classNames: ['setosa', 'versicolor', 'virginica'], sizes: { train: 120, test: 30 }, hash: '0123456789abcdef0123' };

function refusal(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal, but it was accepted');
}

describe('the open dataset catalog', () => {
  it('describes a dataset at run time; resolveConfig then checks a config on it like on a built-in one', () => {
    const iris = describeDataset(IRIS);
    expect(iris).toEqual({ ...IRIS, description: '', numClasses: 3, seeded: false });
    const datasets = withDataset(BUILTIN_DATASETS, iris);
    expect([...datasets.keys()]).toEqual([...DATASET_NAMES, 'iris']);
    expect(BUILTIN_DATASETS.has('iris')).toBe(false);

    const config = resolveConfig({ dataset: 'iris', model: 'mlp', initial: 9, strategies: ['entropy'] }, { datasets });
    expect(config.dataset).toBe('iris');
    const message = (partial: Record<string, unknown>, opts = { datasets }) => refusal(() => resolveConfig(partial, opts)).message;
    // Its sizes, classes and kind, as for a built-in dataset:
    expect(message({ dataset: 'iris', model: 'mlp', initial: 121 })).toBe('config.initial = 121 is not allowed: an integer from 1 to 120');
    expect(message({ dataset: 'iris', model: 'mlp', initial: 2 })).toBe('config.initial = 2 is not allowed: at least the number of classes (3) when balanced is true');
    expect(message({ dataset: 'iris', model: 'cnn', initial: 9 })).toBe("config.model = 'cnn' is not allowed: a model for tabular data (iris); 'cnn' takes image inputs");
    expect(message({ dataset: 'iris', model: 'mlp', initial: 9, validation: 115 })).toBe('config.initial = 9 is not allowed: initial + validation at most the 120 training rows of iris');
    // Not in the built-in catalog, and the message lists what is:
    const err = refusal(() => resolveConfig({ dataset: 'iris', model: 'mlp', initial: 9 }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe("config.dataset = 'iris' is not allowed: one of mnist, fashion-mnist, moons, blobs, classification");
    expect(message({ dataset: 'cifar' })).toBe("config.dataset = 'cifar' is not allowed: one of mnist, fashion-mnist, moons, blobs, classification, iris");
  });

  it.each([
    [{ ...IRIS, name: '' }, "dataset.name = '' is not allowed: a name of letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit"],
    [{ ...IRIS, kind: 'audio' }, "dataset.kind = 'audio' is not allowed: one of image, points, tabular"],
    [{ ...IRIS, shape: [4, 0] }, 'dataset.shape[1] = 0 is not allowed: an integer from 1 to 100000'],
    [{ ...IRIS, kind: 'image' }, 'dataset.shape = an array of 1 is not allowed: [height, width, channels] for images'],
    [{ ...IRIS, kind: 'points' }, 'dataset.shape = an array of 1 is not allowed: [2] for 2-D points'],
    [{ ...IRIS, classNames: ['one'] }, 'dataset.classNames = an array of 1 is not allowed: at least two class names'],
    [{ ...IRIS, classNames: ['a', 'a'] }, 'dataset.classNames = an array of 2 is not allowed: class names that differ from one another'],
    [{ ...IRIS, classNames: Array.from({ length: 300 }, (_, i) => `c${i}`) }, 'dataset.classNames = an array of 300 is not allowed: an array of at most 256 class names'],
    [{ ...IRIS, sizes: { train: 120 } }, 'dataset.sizes.test is missing: an integer from 0 to 10000000'],
    [{ ...IRIS, sizes: { train: 120, test: 0 } }, 'dataset.sizes.test = 0 is not allowed: at least 1 test row'],
    [{ ...IRIS, kind: 'image', shape: [2, 2, 1], sizes: { train: 120, test: 1 }, unlabeled: true }, 'dataset.sizes.test = 1 is not allowed: 0 test rows for unlabeled data (no labels to test against)'],
    [{ ...IRIS, sizes: { train: 120, test: 0 }, unlabeled: true }, "dataset.kind = 'tabular' is not allowed: 'image': only image folders come without labels"],
    [{ ...IRIS, hash: 'abc' }, "dataset.hash = 'abc' is not allowed: a content hash: 16 to 128 lowercase hexadecimal digits"],
    [(({ hash: _h, ...rest }) => rest)(IRIS), 'dataset.hash is missing: a string'],
    [[IRIS], 'dataset = an array of 1 is not allowed: a dataset description (name, kind, shape, classNames, sizes, hash, unlabeled)'],
  ])('refuses %j: %s', (input, message) => {
    const err = refusal(() => describeDataset(input));
    expect(err).toBeInstanceOf(DatasetDescriptionError);
    expect(err.message).toBe(message);
  });

  it('a name already in the catalog is refused, unless it is the same data (same hash) described again', () => {
    expect(refusal(() => withDataset(BUILTIN_DATASETS, describeDataset({ ...IRIS, name: 'mnist' }))).message).toBe(
      "dataset.name = 'mnist' is not allowed: a name no other dataset has (taken: mnist, fashion-mnist, moons, blobs, classification)");
    const once = withDataset(BUILTIN_DATASETS, describeDataset(IRIS));
    expect(withDataset(once, describeDataset({ ...IRIS, description: 'Fisher, 1936' })).get('iris')!.description).toBe('Fisher, 1936');
    expect(() => withDataset(once, describeDataset({ ...IRIS, hash: 'ffffffffffffffff' }))).toThrow(DatasetDescriptionError);
  });
});
