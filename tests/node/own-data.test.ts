/**
 * Your own data (`--data`): the shared parsers (folder layout, CSV/TSV, pixels, hash, split), the
 * Node reader (sharp), and the CLI end to end in-process: a 3-class folder (PNG, JPEG and WebP)
 * and a CSV train; every bad input exits 2 with a message naming the file (and row and column);
 * resume, merge and Open results refuse a different dataset by name and hash. The fidelity of
 * the pixels against MNIST's idx data is tests/node/own-data-fidelity.test.ts.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_DATASETS, withDataset } from '../../datasets/catalog.ts';
import { describeRecord, describeUserData, materialize, userData, type UserDatasetRecord } from '../../datasets/user/data.ts';
import { refuseWarnings, UserDataError, warningText } from '../../datasets/user/errors.ts';
import { folderLayout, isUnlabeledFolder, parseClassNames, requireLabeled } from '../../datasets/user/layout.ts';
import { loadUserDataNode } from '../../datasets/user/node.ts';
import { parseImageSize, storePixels } from '../../datasets/user/pixels.ts';
import { classesOf, parseTable, sortLabels, tableLabels } from '../../datasets/user/table.ts';
import { main, type CliIo } from '../../src/cli/main.ts';
import { mergeResults } from '../../src/cli/merge.ts';
import { nodeFs } from '../../src/cli/outputs.ts';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { parseResultsFile, validateResults } from '../../src/engine/results-file.ts';
import { Rng } from '../../src/rng.ts';
import { classPicture, classTable, jpegBytes, pngBytes, tempDir, webpBytes, writeClassFolder, writeFile } from '../support/image-files.ts';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, fs: nodeFs };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const dir = tempDir();
const TRAIN = ['--model', 'mlp', '--strategies', 'entropy,random', '--initial', '6', '--query', '3', '--rounds', '2', '--epochs', '2', '--jobs', '1', '--seed', '4'];
const pets = join(dir, 'pets');
const table = join(dir, 'iris.csv');
let petsRun: ExperimentResults;
let tableRun: ExperimentResults;

beforeAll(async () => {
  writeClassFolder(pets, ['cats', 'dogs', 'owls'], 12);
  // One JPEG and one WebP per class beside the PNGs.
  const rng = new Rng(9);
  for (const [c, name] of ['cats', 'dogs', 'owls'].entries()) {
    writeFile(join(pets, name, 'x-extra.jpg'), jpegBytes(classPicture(c, rng)));
    writeFile(join(pets, name, 'x-extra.webp'), await webpBytes(classPicture(c, rng)));
  }
  writeFile(table, classTable(['setosa', 'versicolor', 'virginica'], 20));
  const a = await cli(['--data', pets, ...TRAIN, '--out', join(dir, 'pets.json')]);
  expect(a.code, a.stderr).toBe(0);
  petsRun = parseResultsFile(readFileSync(join(dir, 'pets.json')));
  const b = await cli(['--data', table, ...TRAIN, '--model', 'logreg', '--strategies', 'entropy', '--epochs', '10', '--out', join(dir, 'iris-run.json')]);
  expect(b.code, b.stderr).toBe(0);
  tableRun = parseResultsFile(readFileSync(join(dir, 'iris-run.json')));
}, 120_000);

describe('a 3-class image folder and a CSV train through the CLI', () => {
  it('the folder: PNG, JPEG and WebP decoded, classes from the folder names, name and hash in the results', () => {
    expect(petsRun.config.dataset).toBe('pets');
    expect(petsRun.status).toBe('complete');
    expect(petsRun.runs.map((r) => r.rounds.length)).toEqual([3, 3]);
    const d = petsRun.dataset!;
    expect(d).toMatchObject({ name: 'pets', kind: 'image', shape: [28, 28, 1], classNames: ['cats', 'dogs', 'owls'], sizes: { train: 34, test: 8 }, standardization: null });
    expect(d.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(d.source).toEqual({ data: pets, test: null, testFraction: 0.2, labelColumn: null });
    // The balanced initial set: 2 of each class.
    expect(petsRun.runs[0]!.rounds[0]!.classCounts).toEqual([2, 2, 2]);
  });

  it('the CSV: string labels as sorted classes, features standardized with the training split\'s mean and std (kept)', async () => {
    const d = tableRun.dataset!;
    expect(d).toMatchObject({ name: 'iris', kind: 'tabular', shape: [3], classNames: ['setosa', 'versicolor', 'virginica'], sizes: { train: 48, test: 12 } });
    expect(d.source.labelColumn).toBe('species');
    const loaded = await loadUserDataNode({ data: table });
    const { dataset, record } = materialize(loaded.data, 4);
    expect(record.standardization).toEqual(d.standardization);
    // Standardized: the training split has mean 0 and std 1 in each feature.
    for (let j = 0; j < 3; j++) {
      const col = Array.from({ length: dataset.train.n }, (_, i) => dataset.train.x[i * 3 + j]!);
      const m = col.reduce((a, b) => a + b, 0) / col.length;
      expect(Math.abs(m)).toBeLessThan(1e-5);
      expect(Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length)).toBeCloseTo(1, 4);
    }
  });

  it('--image-size 16x16x3 stores RGB; a separate --test folder is the test set', async () => {
    const test = writeClassFolder(join(dir, 'pets-test'), ['cats', 'dogs', 'owls'], 2, 5);
    const r = await cli(['--data', pets, '--test', test, '--image-size', '16x16x3', ...TRAIN, '--model', 'cnn', '--strategies', 'random', '--rounds', '1', '--out', join(dir, 'rgb.json')]);
    expect(r.code, r.stderr).toBe(0);
    const res = parseResultsFile(readFileSync(join(dir, 'rgb.json')));
    expect(res.dataset).toMatchObject({ shape: [16, 16, 3], sizes: { train: 42, test: 6 }, source: { test, testFraction: null } });
  }, 60_000);

  it('--resume refuses a folder with other content (same name), and the built-in dataset, saying which; merge and Open results refuse too', async () => {
    const other = join(dir, 'moved', 'pets');
    writeClassFolder(other, ['cats', 'dogs', 'owls'], 12, 2);
    const r = await cli(['--resume', join(dir, 'pets.json'), '--data', other, '--out', join(dir, 'resumed.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`error: --resume .*pets\\.json was made on 'pets' \\(hash ${petsRun.dataset!.hash.slice(0, 16)}…\\), not on 'pets' \\(hash [0-9a-f]{16}…\\): same name, different content`));
    // The same data resumes (finished runs kept: nothing to run).
    const same = await cli(['--resume', join(dir, 'pets.json'), '--out', join(dir, 'resumed.json')]);
    expect(same.code, same.stderr).toBe(0);
    expect(parseResultsFile(readFileSync(join(dir, 'resumed.json'))).dataset).toEqual(petsRun.dataset);
    // Merge: a file on another dataset of the same name.
    const forged = structuredClone(petsRun);
    forged.dataset = { ...forged.dataset!, hash: 'f'.repeat(64) };
    expect(() => mergeResults([{ name: 'a.json', results: petsRun }, { name: 'b.json', results: forged }])).toThrow(/b\.json was made on 'pets' \(hash ffffffffffffffff…\), not on 'pets' \(hash [0-9a-f]{16}…\): same name, different content, which a\.json was made on/);
    // Open results (the page's catalog holds the user's own 'pets' with other content).
    const mine = withDataset(BUILTIN_DATASETS, describeRecord(forged.dataset!));
    expect(() => validateResults(petsRun, { datasets: mine })).toThrow(/results\.dataset = .*the dataset it was made on: this results file was made on 'pets' \(hash [0-9a-f]{16}…\), not on 'pets' \(hash ffffffffffffffff…\)/);
    // A results file of a built-in dataset cannot be resumed with --data.
    const moons = await cli(['--dataset', 'moons', '--model', 'logreg', '--strategies', 'random', '--initial', '4', '--query', '2', '--rounds', '0', '--epochs', '1', '--out', join(dir, 'moons.json')]);
    expect(moons.code, moons.stderr).toBe(0);
    const m = await cli(['--resume', join(dir, 'moons.json'), '--data', pets]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/was made on the built-in dataset 'moons', not on your own data/);
  }, 60_000);
});

describe('bad input: exit code 2 and a message naming the file (and row and column)', () => {
  const fails = async (args: string[], message: RegExp) => {
    const r = await cli([...args, ...TRAIN, '--out', join(dir, 'never.json')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    return r;
  };
  const csv = (name: string, text: string) => writeFile(join(dir, 'tables', name), text);

  it('a file that is not an image, and one that fails to decode: skipped with a warning; refused with --strict', async () => {
    const f = join(dir, 'messy');
    writeClassFolder(f, ['a', 'b'], 6);
    writeFile(join(f, 'a', 'notes.txt'), 'hello');
    writeFile(join(f, 'b', 'broken.png'), pngBytes(classPicture(0, new Rng(1))).subarray(0, 60));
    const loaded = await loadUserDataNode({ data: f });
    expect(loaded.data.rows.n).toBe(12);
    expect(loaded.warnings.map((w) => `${w.place.file}: ${w.message}`)).toEqual([
      `${f}/a/notes.txt: not a PNG, JPEG or WebP image (by its extension): skipped`,
      expect.stringMatching(new RegExp(`^${f}/b/broken\\.png: cannot be decoded as a PNG, JPEG or WebP image \\(.+\\): skipped$`)),
    ]);
    await fails(['--data', f, '--strict'], new RegExp(`error: ${f}/a/notes\\.txt: not a PNG, JPEG or WebP image \\(by its extension\\); refused with --strict \\(and 1 more problem\\)`));
    expect(() => refuseWarnings([loaded.warnings[1]!])).toThrow(/broken\.png: cannot be decoded .*; refused with --strict$/);
  });

  it('an empty folder, an unlabeled folder (taken only by "Label it yourself"), a single class', async () => {
    mkdirSync(join(dir, 'empty', 'cats'), { recursive: true });
    writeFile(join(dir, 'empty', 'readme.md'), '# nothing');
    await fails(['--data', join(dir, 'empty')], /error: .*\/empty: an empty folder: it holds no PNG, JPEG or WebP images \(1 other file\)/);
    const loose = join(dir, 'loose');
    for (let i = 0; i < 3; i++) writeFile(join(loose, `${i}.png`), pngBytes(classPicture(0, new Rng(i))));
    await fails(['--data', loose], /error: .*\/loose: an unlabeled folder \(3 images, no class subfolders\): unlabeled images are taken only by "Label it yourself" in the page, where you give every label: add it in the page, name its classes there and label it in "Label it yourself"; to train on it here, put each class's images in a subfolder named by the class/);
    const layout = folderLayout('loose', [{ path: '0.png', size: 1 }]);
    expect(isUnlabeledFolder(layout)).toBe(true);
    expect(() => requireLabeled(layout)).toThrow(UserDataError);
    // In the page, without class names, the message says where to name them.
    expect(() => requireLabeled(layout, 'page')).toThrow(/taken only by "Label it yourself" in the page, where you give every label: name its classes in the Classes field \(e\.g\. "cat, dog"\) and add it again/);
    writeClassFolder(join(dir, 'single'), ['cats'], 4);
    await fails(['--data', join(dir, 'single')], /error: .*\/single: a single class \(cats\): at least two class folders are needed/);
  });

  it('an unlabeled folder with the classes a person names: data without labels, no test set, its own hash', async () => {
    const loose = join(dir, 'loose2');
    for (let i = 0; i < 4; i++) writeFile(join(loose, `${i}.png`), pngBytes(classPicture(i % 2, new Rng(i))));
    const { data: u, warnings } = await loadUserDataNode({ data: loose, classes: ['cat', 'dog'] });
    expect(warnings).toEqual([]);
    expect([u.labeled, u.classNames, u.rows.n, u.testRows, u.source.testFraction]).toEqual([false, ['cat', 'dog'], 4, null, null]);
    const d = describeUserData(u);
    expect([d.sizes, d.unlabeled, d.numClasses]).toEqual([{ train: 4, test: 0 }, true, 2]);
    const m = materialize(u, 1);
    expect([m.dataset.unlabeled, m.dataset.train.n, m.dataset.test.n, m.record.unlabeled, m.record.sizes]).toEqual([true, 4, 0, true, { train: 4, test: 0 }]);
    const other = await loadUserDataNode({ data: loose, classes: ['dog', 'cat'] });
    expect(other.data.hash).not.toBe(u.hash);
    // A test folder for data without labels, and class names for a folder of class folders.
    await expect(loadUserDataNode({ data: loose, classes: ['cat', 'dog'], test: join(dir, 'pets') })).rejects.toThrow(/pets: a test folder for .*loose2, which has no labels: .*accuracy needs labeled test data/);
    const named = await loadUserDataNode({ data: pets, classes: ['a', 'b'] });
    expect(named.data.labeled).toBe(true);
    expect(named.warnings.map(warningText)).toContain(`${pets}: the class names given (a, b) are not used: its class folders name the classes (cats, dogs, owls)`);
    // Nothing decodable, and a single image: each refused by name.
    const broken = join(dir, 'loose-broken');
    for (let i = 0; i < 2; i++) writeFile(join(broken, `${i}.png`), Buffer.from('not a png'));
    await expect(loadUserDataNode({ data: broken, classes: ['cat', 'dog'] })).rejects.toThrow(/loose-broken: none of its 2 images could be decoded/);
    const single = join(dir, 'loose-single');
    writeFile(join(single, '0.png'), pngBytes(classPicture(0, new Rng(9))));
    const one = await loadUserDataNode({ data: single, classes: ['cat', 'dog'] });
    expect(() => describeUserData(one.data)).toThrow(/loose-single: 1 image: labeling needs at least 2/);
  });

  it('class names for an unlabeled folder: 2 to 10, distinct, comma-separated', () => {
    expect(parseClassNames(' cat, dog ,bird ')).toEqual(['cat', 'dog', 'bird']);
    expect(parseClassNames('cat\ndog')).toEqual(['cat', 'dog']);
    expect(parseClassNames('cat')).toMatch(/^one class name \(cat\): name 2 to 10 classes/);
    expect(parseClassNames(' , ')).toMatch(/^no class names/);
    expect(parseClassNames(Array.from({ length: 11 }, (_, i) => `c${i}`).join(','))).toMatch(/^11 class names: at most 10, as the keys 0-9 label them/);
    expect(parseClassNames('cat, cat')).toMatch(/the class name 'cat' is given twice/);
    expect(parseClassNames(`cat, ${'x'.repeat(101)}`)).toMatch(/longer than 100 characters/);
  });

  it('a class with fewer training images than the balanced initial set takes', async () => {
    const f = join(dir, 'small');
    writeClassFolder(f, ['big', 'tiny'], 10);
    // 'tiny' keeps 2 decodable images (8 are overwritten with junk, skipped): the hold-out takes none of them, the initial set of 6 wants 3.
    for (let i = 2; i < 10; i++) writeFileSync(join(f, 'tiny', `${String(i).padStart(4, '0')}.png`), 'x');
    await fails(['--data', f], /error: .*\/small\/tiny: the class folder holds 2 training images, but the balanced initial set of 6 takes 3 of each of its 2 classes \(add images, lower --initial, or use --balanced false\)/);
  });

  it('a non-numeric cell (row, column, value), ragged rows, NaN or infinite values, duplicate header names', async () => {
    await fails(['--data', csv('text.csv', 'a,b,label\n1,2,x\n3,oops,y\n')], /error: .*text\.csv, row 3, column 'b' \(2\): 'oops' is not a number/);
    await fails(['--data', csv('empty-cell.csv', 'a,b,label\n1,2,x\n,4,y\n')], /error: .*empty-cell\.csv, row 3, column 'a' \(1\): an empty cell, not a number/);
    await fails(['--data', csv('ragged.csv', 'a,b,label\n1,2,x\n3,4\n')], /error: .*ragged\.csv, row 3: a ragged row: 2 cells, but the header has 3/);
    await fails(['--data', csv('nan.csv', 'a,b,label\n1,NaN,x\n3,4,y\n')], /error: .*nan\.csv, row 2, column 'b' \(2\): 'NaN' is NaN or infinite: every feature must be a finite number/);
    await fails(['--data', csv('inf.csv', 'a,b,label\n1,2,x\n3,1e999,y\n')], /error: .*inf\.csv, row 3, column 'b' \(2\): '1e999' is infinite as a 32-bit float/);
    await fails(['--data', csv('dup.csv', 'a,a,label\n1,2,x\n3,4,y\n')], /error: .*dup\.csv, row 1: duplicate header name 'a' in columns 1 and 2/);
  });

  it('no label column, a named label column that does not exist', async () => {
    await fails(['--data', csv('one.csv', 'a\n1\n2\n')], /error: .*one\.csv: no label column: the table has 1 column; it needs numeric feature columns and a label column/);
    await fails(['--data', csv('named.csv', 'a,b,kind\n1,2,x\n3,4,y\n'), '--label-column', 'species'], /error: .*named\.csv: no label column 'species' \(--label-column\); the columns are 'a', 'b', 'kind'/);
    await fails(['--data', csv('headless.csv', '1,2,x\n3,4,y\n'), '--label-column', 'species'], /error: .*headless\.csv: no label column 'species': the table has no header row/);
  });

  it('a file or folder over the limits', async () => {
    await fails(['--data', pets, '--max-images', '10'], /error: .*\/pets: 42 images, over the limit of 10 \(raise it with --max-images\)/);
    await fails(['--data', pets, '--max-mb', '0.001'], /error: .*\/pets: [\d.]+ MB of files, over the limit of 0 MB \(raise it with --max-mb\)/);
    await fails(['--data', table, '--max-mb', '0.0001'], /error: .*iris\.csv: [\d.]+ MB of files, over the limit of 0 MB \(raise it with --max-mb\)/);
    await fails(['--data', table, '--max-images', '5'], /error: .*iris\.csv: 60 rows, over the limit of 5 \(raise it with --max-images\)/);
  });

  it('a path that does not exist, a symlink loop', async () => {
    await fails(['--data', join(dir, 'nowhere')], /error: .*\/nowhere: no such file or folder/);
    const f = join(dir, 'loop');
    writeClassFolder(f, ['a', 'b'], 4);
    symlinkSync(f, join(f, 'a', 'again'));
    await fails(['--data', f], /error: .*\/loop\/a\/again: a symbolic link loop: it leads back to .*\/loop, a folder it lies in/);
    symlinkSync(join(dir, 'self'), join(dir, 'self'));
    await fails(['--data', join(dir, 'self')], /error: .*\/self: a symbolic link loop: the link leads back to itself/);
  });

  it('flags: --data with --dataset, companions without --data, --test with --test-fraction, a bad --image-size or --test-fraction', async () => {
    await fails(['--data', pets, '--dataset', 'moons'], /error: --data and --dataset cannot both be given/);
    await fails(['--label-column', 'y'], /error: --label-column goes with --data/);
    await fails(['--data', pets, '--test', pets, '--test-fraction', '0.3'], /error: --test and --test-fraction cannot both be given/);
    await fails(['--data', pets, '--image-size', '28x28x2'], /error: --image-size takes HEIGHTxWIDTHxCHANNELS .* got '28x28x2'/);
    await fails(['--data', pets, '--test-fraction', '1'], /error: --test-fraction takes a number between 0 and 1 \(exclusive\), got '1'/);
    await fails(['--data', pets, '--test', table], /error: .*iris\.csv: a file, but --data .*pets is a folder: the test set must be of the same kind/);
  });
});

describe('the parsers', () => {
  it('header detection, the label column by name or last, TSV, quoted cells, numeric labels sorted numerically', () => {
    const t = parseTable('t.csv', 'x,"y, too",target,z\n1,2,b,3\n4,5,a,6\n');
    expect(t).toMatchObject({ header: true, labelIndex: 2, featureNames: ['x', 'y, too', 'z'], labels: ['b', 'a'], rows: [2, 3], n: 2, d: 3 });
    expect(Array.from(t.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(classesOf(t)).toEqual(['a', 'b']);
    expect(Array.from(tableLabels(t, classesOf(t), 't.csv'))).toEqual([1, 0]);
    const h = parseTable('h.tsv', '0.5\t1\t10\n\n0.25\t2\t9\n');
    expect(h).toMatchObject({ header: false, columns: ['column 1', 'column 2', 'column 3'], labelIndex: 2, labels: ['10', '9'], rows: [1, 3] });
    expect(sortLabels(['10', '9', '2'])).toEqual(['2', '9', '10']);
    expect(sortLabels(['b', 'B', 'a'])).toEqual(['B', 'a', 'b']);
    expect(() => tableLabels(t, ['a'], 'train.csv')).toThrow(/t\.csv, row 2, column 'target' \(3\): the label 'b' is not a class of train\.csv \(a\)/);
  });

  it('pixels: grey kept exactly, RGB to luminance (not the red channel), alpha over black', () => {
    const out = new Uint8Array(3);
    storePixels([200, 0, 0, 0, 200, 0, 0, 0, 200], 3, 3, 1, out);
    expect(Array.from(out)).toEqual([60, 117, 23]);
    storePixels([7, 255, 8, 255, 9, 0], 2, 3, 1, out);
    expect(Array.from(out)).toEqual([7, 8, 0]);
    expect(parseImageSize('32x32x3')).toEqual([32, 32, 3]);
    expect(parseImageSize('28x28')).toEqual([28, 28, 1]);
    expect(typeof parseImageSize('0x28x1')).toBe('string');
  });

  it('the content hash changes with one pixel or one label, not with the seed; the hold-out is stratified and seeded', async () => {
    const loaded = await loadUserDataNode({ data: pets });
    const u = loaded.data;
    expect(u.hash).toBe(petsRun.dataset!.hash);
    const x = Uint8Array.from(u.rows.x as Uint8Array);
    x[100]! ^= 1;
    expect(userData({ ...u, rows: { ...u.rows, x } }).hash).not.toBe(u.hash);
    const y = Uint8Array.from(u.rows.y);
    y[0] = 1;
    expect(userData({ ...u, rows: { ...u.rows, y } }).hash).not.toBe(u.hash);
    const a = materialize(u, 1), b = materialize(u, 1), c = materialize(u, 2);
    expect(a.dataset.test.y).toEqual(b.dataset.test.y);
    expect(Array.from(a.dataset.test.x)).toEqual(Array.from(b.dataset.test.x));
    expect(Array.from(a.dataset.test.x)).not.toEqual(Array.from(c.dataset.test.x));
    // 14 images per class: round(42 * 0.2) = 8 test rows, 3/3/2 (largest remainders).
    const counts = [0, 0, 0];
    for (const l of a.dataset.test.y) counts[l]!++;
    expect(counts.sort()).toEqual([2, 3, 3]);
    expect(a.record.hash).toBe(c.record.hash);
    expect(describeUserData(u)).toMatchObject({ name: 'pets', hash: u.hash, sizes: { train: 34, test: 8 } });
  });

  it('a recorded dataset is read back with the results it is in; a broken record is refused by field', () => {
    const bad = structuredClone(petsRun) as unknown as { dataset: Partial<UserDatasetRecord> };
    bad.dataset.hash = 'XYZ';
    expect(() => validateResults(bad)).toThrow(/results\.dataset\.hash/);
    const renamed = structuredClone(petsRun);
    renamed.dataset!.name = 'cats';
    expect(() => validateResults(renamed)).toThrow(/results\.config\.dataset = 'pets' is not allowed: one of mnist, .*, cats$/);
    // --out beside the table would write its CSV over it: refused.
    return cli(['--data', table, ...TRAIN, '--out', table.replace(/\.csv$/, '.json')]).then((r) => {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/error: --out .*iris\.json would write its CSV over .*iris\.csv, the data: choose another --out/);
    });
  });
});
