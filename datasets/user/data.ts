/**
 * The user's own data, from rows to a dataset the engine runs on. Shared by the CLI and the page
 * (plain data: no tfjs, no Node, no DOM).
 *
 * `userData` takes the decoded rows (images as uint8, tables as float32, in their canonical order:
 * an image folder's files by path, a table's rows as written) and hashes them: the identity of a
 * user dataset is its name and this content hash (SHA-256 of the kind, shape and class names, then
 * each part's rows with their labels). The hold-out split is not part of it: `materialize` splits
 * seeded from the config's seed (stratified, `testFraction`, unless a separate test set was given)
 * and standardizes table features with the training split's mean and std, which the results keep.
 *
 * Data without labels (an image folder with no class folders, whose classes the person named for
 * "Label it yourself"): `labeled` false, every row's `y` is 0 and means nothing, there is no test
 * split (`sizes.test` 0), and the dataset the engine gets says `unlabeled`, so it never reads them.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as v from 'valibot';
import { Rng } from '../../src/rng.ts';
import { int, list, num, obj, oneOf, str } from '../../src/schema.ts';
import { describeDataset, DEFAULT_TEST_FRACTION, type DatasetDescription } from '../catalog.ts';
import { stratifiedSplit, type Split } from '../split.ts';
import { UserDataError, type DataProblemPlace } from './errors.ts';

export type UserDataKind = 'image' | 'tabular';

export interface UserDataSource {
  /** The folder or file given (--data), as given. */
  data: string;
  /** The separate test folder or file (--test), or null for a hold-out. */
  test: string | null;
  /** The share of rows held out as the test set; null with a separate test set. */
  testFraction: number | null;
  /** A table's label column (its name, or "column N" without a header); null for images. */
  labelColumn: string | null;
}

export interface UserData {
  name: string;
  kind: UserDataKind;
  /** [H, W, C] for images, [features] for tables. */
  shape: number[];
  classNames: string[];
  /** The rows to train on (and hold the test share out of), in canonical order; `y` all 0 (unknown) when not `labeled`. */
  rows: Split;
  /** False for images without labels (the person labels them in "Label it yourself"; no test split). */
  labeled: boolean;
  /** A separate test set, or null. */
  testRows: Split | null;
  source: UserDataSource;
  /** A table's feature names. */
  featureNames: string[] | null;
  /** SHA-256 (hex) of the content: see the module comment. */
  hash: string;
  /** Where each row and test row came from (a file, or a table's file and row), for messages. */
  origin: (i: number, test: boolean) => DataProblemPlace;
}

/** A user dataset as the results record it (its identity, what it is, and the split's standardization). */
export interface UserDatasetRecord {
  name: string;
  hash: string;
  kind: UserDataKind;
  shape: number[];
  classNames: string[];
  sizes: { train: number; test: number };
  source: UserDataSource;
  /** Tables: the training split's per-feature mean and std the features were standardized with. */
  standardization: { mean: number[]; std: number[] } | null;
  /** True for images without labels (labeled by the person, no test split); absent otherwise. */
  unlabeled?: boolean;
}

/** The dataset the engine runs on (structurally datasets/types.ts's `Dataset`). */
export interface UserDataset {
  name: string;
  kind: UserDataKind;
  shape: number[];
  numClasses: number;
  classNames: string[];
  train: Split;
  test: Split;
  /** True without labels: `train.y` means nothing and `test` is empty (datasets/types.ts). */
  unlabeled?: boolean;
}

/** A dataset name from a folder or file name: its letters, digits, ".", "_" and "-", at most 64. */
export function datasetNameFrom(path: string): string {
  const base = path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.(csv|tsv|tab|txt)$/i, '');
  const clean = stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return clean || 'data';
}

function hashRows(kind: UserDataKind, shape: readonly number[], classNames: readonly string[], parts: readonly Split[], labeled: boolean): string {
  const h = sha256.create();
  // `labels: 'unknown'` only without labels, so that labeled data keeps the hashes it had.
  h.update(new TextEncoder().encode(`${JSON.stringify({ format: 'activelab-user-data', version: 1, kind, shape, classNames, parts: parts.map((p) => p.n), ...(labeled ? {} : { labels: 'unknown' }) })}\n`));
  for (const p of parts) {
    h.update(p.y);
    h.update(new Uint8Array(p.x.buffer, p.x.byteOffset, p.x.byteLength));
  }
  return bytesToHex(h.digest());
}

/** Rows, their identity and where they came from; see the module comment. */
export function userData(u: Omit<UserData, 'hash'>): UserData {
  return { ...u, hash: hashRows(u.kind, u.shape, u.classNames, u.testRows ? [u.rows, u.testRows] : [u.rows], u.labeled) };
}

/** Train and test sizes: the stratified hold-out's (`Math.round(n * testFraction)` test rows), or the separate test set's; no test rows without labels. */
export function splitSizes(u: UserData): { train: number; test: number } {
  if (!u.labeled) return { train: u.rows.n, test: 0 };
  if (u.testRows) return { train: u.rows.n, test: u.testRows.n };
  const test = Math.round(u.rows.n * (u.source.testFraction ?? DEFAULT_TEST_FRACTION));
  return { train: u.rows.n - test, test };
}

/**
 * The catalog entry of `u` (for `withDataset`).
 * @throws UserDataError when it has too few rows for a training and a test split.
 */
export function describeUserData(u: UserData): DatasetDescription {
  const sizes = splitSizes(u);
  if (!u.labeled && sizes.train < 2) throw new UserDataError({ file: u.source.data }, `${sizes.train} image: labeling needs at least 2`);
  if (u.labeled && (sizes.test < 1 || sizes.train < 2)) {
    const what = u.testRows ? `${u.source.test}: ${sizes.test} test rows and ${sizes.train} training rows` : `${u.rows.n} rows leave ${sizes.test} for the test set at --test-fraction ${u.source.testFraction}`;
    throw new UserDataError({ file: u.testRows && sizes.test < 1 ? u.source.test! : u.source.data }, `${what}: it needs at least 2 training rows and 1 test row`);
  }
  return describeDataset({
    name: u.name,
    kind: u.kind,
    description: `your own ${u.kind === 'image' ? 'images' : 'table'}: ${u.source.data}${u.source.test ? `, tested on ${u.source.test}` : ''}${u.labeled ? '' : ' (no labels: you label them in "Label it yourself")'}`,
    shape: u.shape,
    classNames: u.classNames,
    sizes,
    hash: u.hash,
    ...(u.labeled ? {} : { unlabeled: true }),
  });
}

/** Per-feature mean and (population) std of the rows; a constant feature gets std 1. */
function moments(x: Float32Array, n: number, d: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j]! += (x[i * d + j]! - mean[j]!) ** 2;
  return { mean, std: sq.map((s) => Math.sqrt(s / n) || 1) };
}

function standardized(s: Split, m: { mean: number[]; std: number[] }): Split {
  const d = m.mean.length;
  const x = new Float32Array(s.x.length);
  for (let i = 0; i < s.n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (s.x[i * d + j]! - m.mean[j]!) / m.std[j]!;
  return { x, y: s.y, n: s.n };
}

/**
 * The dataset the engine runs on for the config's `seed`, and its record for the results: the
 * stratified hold-out (stream `user-data-split` of the seed) or the separate test set; table
 * features standardized with the training split's mean and std.
 */
export function materialize(u: UserData, seed: number): { dataset: UserDataset; record: UserDatasetRecord } {
  const sizes = splitSizes(u);
  let train: Split, test: Split;
  if (!u.labeled) {
    // No labels: every row is the pool's, and there is nothing to test against.
    train = u.rows;
    test = { x: new Uint8Array(0), y: new Uint8Array(0), n: 0 };
  } else if (u.testRows) {
    train = u.rows;
    test = u.testRows;
  } else {
    ({ train, test } = stratifiedSplit(u.rows.x, u.rows.y, u.classNames.length, u.source.testFraction ?? DEFAULT_TEST_FRACTION, new Rng(seed).fork('user-data-split')));
  }
  let standardization: UserDatasetRecord['standardization'] = null;
  if (u.kind === 'tabular') {
    standardization = moments(train.x as Float32Array, train.n, u.shape[0]!);
    train = standardized(train, standardization);
    test = standardized(test, standardization);
  }
  const unlabeled = u.labeled ? {} : { unlabeled: true };
  return {
    dataset: { name: u.name, kind: u.kind, shape: [...u.shape], numClasses: u.classNames.length, classNames: [...u.classNames], train, test, ...unlabeled },
    record: { name: u.name, hash: u.hash, kind: u.kind, shape: [...u.shape], classNames: [...u.classNames], sizes, source: { ...u.source }, standardization, ...unlabeled },
  };
}

/**
 * Refuses a class with fewer training rows than the balanced initial set takes of it
 * (`initial / classes`, the remainder to the lowest classes, as the engine draws it).
 * @throws UserDataError naming the class folder (or the table's label).
 */
export function checkClassSizes(u: UserData, train: Split, config: { initial: number; balanced: boolean }): void {
  if (!config.balanced || !u.labeled) return;
  const k = u.classNames.length;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < train.n; i++) counts[train.y[i]!]!++;
  counts.forEach((have, c) => {
    const need = Math.floor(config.initial / k) + (c < config.initial % k ? 1 : 0);
    if (have < need) {
      const where = u.kind === 'image' ? `${u.source.data}/${u.classNames[c]}` : u.source.data;
      const cls = u.kind === 'image' ? `the class folder holds ${have} training image${have === 1 ? '' : 's'}` : `the class '${u.classNames[c]}' has ${have} training row${have === 1 ? '' : 's'}`;
      throw new UserDataError({ file: where }, `${cls}, but the balanced initial set of ${config.initial} takes ${need} of each of its ${k} classes (add ${u.kind === 'image' ? 'images' : 'rows'}, lower --initial, or use --balanced false)`);
    }
  });
}

const MAX_FEATURES = 100_000;

/** The results' record of a user dataset, checked field by field. */
export const userDatasetRecordSchema = obj({
  name: str(64),
  hash: v.pipe(str(128), v.regex(/^[0-9a-f]{16,128}$/, 'a content hash: 16 to 128 lowercase hexadecimal digits')),
  kind: oneOf(['image', 'tabular'] as const),
  shape: list(int(1, MAX_FEATURES), 3, 'the shape of one example'),
  classNames: list(str(100), 256, 'class names'),
  sizes: obj({ train: int(2, 10_000_000), test: int(0, 10_000_000) }),
  source: obj({
    data: str(4096),
    test: v.nullable(str(4096)),
    testFraction: v.nullable(num(0, 1)),
    labelColumn: v.nullable(str(1000)),
  }),
  standardization: v.nullable(obj({ mean: list(num(-Infinity, Infinity), MAX_FEATURES, 'means'), std: list(num(0, Infinity), MAX_FEATURES, 'standard deviations') })),
  unlabeled: v.optional(v.literal(true)),
}, 'a user dataset record (name, hash, kind, shape, classNames, sizes, source, standardization, unlabeled)');

/** The catalog entry a results file's user dataset record describes. */
export function describeRecord(r: UserDatasetRecord): DatasetDescription {
  return describeDataset({ name: r.name, kind: r.kind, description: `your own data: ${r.source.data}`, shape: r.shape, classNames: r.classNames, sizes: r.sizes, hash: r.hash, ...(r.unlabeled ? { unlabeled: true } : {}) });
}

/** Why a dataset is not the one a results file was made on, or null when it is (same name and hash). */
export function identityMismatch(recorded: { name: string; hash: string | null } | null, given: { name: string; hash: string | null } | null, where: string): string | null {
  const show = (d: { name: string; hash: string | null } | null) => (d === null ? 'a built-in dataset' : d.hash === null ? `the built-in dataset '${d.name}'` : `'${d.name}' (hash ${d.hash.slice(0, 16)}…)`);
  if ((recorded?.name ?? null) === (given?.name ?? null) && (recorded?.hash ?? null) === (given?.hash ?? null)) return null;
  return `${where} was made on ${show(recorded)}, not on ${show(given)}${recorded && given && recorded.name === given.name ? ': same name, different content' : ''}`;
}
