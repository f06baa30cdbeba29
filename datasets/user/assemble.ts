/**
 * The user's own data assembled from files, the same steps for the CLI (node.ts: files on disk,
 * sharp) and the page's worker (browser.ts: `File`s, createImageBitmap): what differs is only how
 * a folder is listed, how a file's bytes or text are read and how an image is decoded, which the
 * caller passes in (`DataFiles`).
 */
import { DEFAULT_TEST_FRACTION } from '../catalog.ts';
import { datasetNameFrom, userData, type UserData } from './data.ts';
import { UserDataError, type DataWarning } from './errors.ts';
import { checkLimits, DEFAULT_LIMITS, folderLayout, IMAGE_FORMATS_TEXT, isImagePath, requireLabeled, type DataLimits, type FolderEntry, type ImageFile } from './layout.ts';
import { DEFAULT_IMAGE_SIZE, type ImageSize } from './pixels.ts';
import { classesOf, parseTable, tableLabels, type ParsedTable } from './table.ts';

/** How the files are reached: a path is the folder or file as given, then '/' and the relative path. */
export interface DataFiles {
  /** Whether `path` is a folder (throws UserDataError when it does not exist). */
  isFolder(path: string): boolean;
  /** The files under a folder, relative, '/'-separated; skipped ones go to `warnings`. */
  list(folder: string, warnings: DataWarning[], limits: DataLimits): FolderEntry[];
  /** A file's size in bytes. */
  size(path: string): number;
  /** A file's bytes. */
  bytes(path: string): Promise<Uint8Array>;
  /** Decodes an image file to `size` into `dst` at `offset` (`storePixels`); resolves with why it failed, or null. */
  decode(path: string, size: ImageSize, dst: Uint8Array, offset: number): Promise<string | null>;
}

export interface DataOptions {
  /** A folder of class folders, or a CSV/TSV file. */
  data: string;
  /** A separate test folder or file (same kind as `data`); null: hold `testFraction` out. */
  test?: string | null;
  testFraction?: number;
  labelColumn?: string | null;
  imageSize?: ImageSize;
  limits?: DataLimits;
  /** The dataset's name; default from the folder or file name. */
  name?: string;
  /** Images decoded at once. */
  concurrency?: number;
  /**
   * The class names a person gives a folder without class folders ("Label it yourself" in the
   * page, `parseClassNames`): with them such a folder is taken as data without labels. Undefined
   * (the CLI) or null (the page, no names given): such a folder is refused, saying how it is taken.
   * Ignored, with a warning, for a folder of class folders (its folders name the classes).
   */
  classes?: string[] | null;
}

export interface LoadedUserData {
  data: UserData;
  /** Files skipped (not an image, failed to decode, outside the class folders). */
  warnings: DataWarning[];
}

interface DecodedFolder {
  /** False for a folder without class folders taken with the person's class names (labels unknown). */
  labeled: boolean;
  classNames: string[];
  rows: { x: Uint8Array; y: Uint8Array; n: number };
  files: string[];
}

async function decodeFolder(io: DataFiles, folder: string, files: readonly ImageFile[], size: ImageSize, warnings: DataWarning[], concurrency: number) {
  const d = size[0] * size[1] * size[2];
  const x = new Uint8Array(files.length * d);
  const ok = new Uint8Array(files.length);
  const failed: (DataWarning | null)[] = new Array(files.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const path = `${folder}/${files[i]!.path}`;
      const why = await io.decode(path, size, x, i * d);
      if (why === null) ok[i] = 1;
      else failed[i] = { place: { file: path }, message: `cannot be decoded as a ${IMAGE_FORMATS_TEXT} image (${why}): skipped` };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  for (const w of failed) if (w) warnings.push(w);
  const keep = files.map((_, i) => i).filter((i) => ok[i] === 1);
  const kx = keep.length === files.length ? x : new Uint8Array(keep.length * d);
  if (kx !== x) keep.forEach((i, k) => kx.set(x.subarray(i * d, (i + 1) * d), k * d));
  return { x: kx, y: Uint8Array.from(keep, (i) => files[i]!.label ?? 0), n: keep.length, files: keep.map((i) => `${folder}/${files[i]!.path}`) };
}

async function readFolder(
  io: DataFiles, folder: string, size: ImageSize, limits: DataLimits, warnings: DataWarning[], concurrency: number, classesFrom: string[] | null, named?: string[] | null,
): Promise<DecodedFolder> {
  const found = folderLayout(folder, io.list(folder, warnings, limits), limits);
  if (!found.labeled && named) {
    // No class folders, and the person named the classes: every label is theirs to give.
    warnings.push(...found.warnings);
    const rows = await decodeFolder(io, folder, found.files, size, warnings, concurrency);
    if (rows.n === 0) throw new UserDataError({ file: folder }, `none of its ${found.files.length} images could be decoded`);
    return { labeled: false, classNames: [...named], rows: { x: rows.x, y: rows.y, n: rows.n }, files: rows.files };
  }
  const layout = requireLabeled(found, named === undefined ? 'cli' : 'page');
  warnings.push(...layout.warnings);
  if (named) warnings.push({ place: { file: folder }, message: `the class names given (${named.join(', ')}) are not used: its class folders name the classes (${layout.classNames.join(', ')})` });
  let files = layout.files;
  let classNames = layout.classNames;
  if (classesFrom) {
    const index = new Map(classesFrom.map((c, i) => [c, i]));
    const foreign = layout.classNames.find((c) => !index.has(c));
    if (foreign !== undefined) throw new UserDataError({ file: `${folder}/${foreign}` }, `a class folder the training folder does not have (its classes: ${classesFrom.join(', ')})`);
    files = files.map((f) => ({ ...f, label: index.get(layout.classNames[f.label!]!)! }));
    classNames = classesFrom;
  }
  const rows = await decodeFolder(io, folder, files, size, warnings, concurrency);
  if (rows.n === 0) throw new UserDataError({ file: folder }, `none of its ${files.length} images could be decoded`);
  return { labeled: true, classNames, rows: { x: rows.x, y: rows.y, n: rows.n }, files: rows.files };
}

async function readTable(io: DataFiles, file: string, limits: DataLimits, labelColumn: string | null): Promise<ParsedTable> {
  const size = io.size(file);
  checkLimits(file, 0, size, limits);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await io.bytes(file));
  } catch {
    throw new UserDataError({ file }, 'not UTF-8 text: a CSV or TSV table is text');
  }
  const t = parseTable(file, text, { labelColumn });
  checkLimits(file, t.n, size, limits, 'rows');
  return t;
}

/**
 * Reads, decodes and checks `opts.data` (and `opts.test`) through `io`.
 * @throws UserDataError for every input that cannot be used (see errors.ts), naming the file.
 */
export async function loadUserData(io: DataFiles, opts: DataOptions): Promise<LoadedUserData> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const warnings: DataWarning[] = [];
  const test = opts.test ?? null;
  const testFraction = test === null ? (opts.testFraction ?? DEFAULT_TEST_FRACTION) : null;
  const isDir = io.isFolder(opts.data);
  if (test !== null && io.isFolder(test) !== isDir) {
    throw new UserDataError({ file: test }, `a ${isDir ? 'file' : 'folder'}, but --data ${opts.data} is a ${isDir ? 'folder' : 'file'}: the test set must be of the same kind`);
  }
  const name = opts.name ?? datasetNameFrom(opts.data);
  const concurrency = opts.concurrency ?? 8;
  if (isDir) {
    const size = opts.imageSize ?? DEFAULT_IMAGE_SIZE;
    const train = await readFolder(io, opts.data, size, limits, warnings, concurrency, null, opts.classes);
    if (!train.labeled && test !== null) {
      throw new UserDataError({ file: test }, `a test folder for ${opts.data}, which has no labels: images you label yourself have no test set (accuracy needs labeled test data); give ${opts.data} alone`);
    }
    const held = test === null ? null : await readFolder(io, test, size, limits, warnings, concurrency, train.classNames);
    const data = userData({
      name, kind: 'image', shape: [...size], classNames: train.classNames, rows: train.rows, testRows: held?.rows ?? null, labeled: train.labeled,
      source: { data: opts.data, test, testFraction: train.labeled ? testFraction : null, labelColumn: null }, featureNames: null,
      origin: (i, t) => ({ file: (t ? held!.files : train.files)[i] ?? opts.data }),
    });
    return { data, warnings };
  }
  if (isImagePath(opts.data)) throw new UserDataError({ file: opts.data }, `a single image: --data takes a folder of class folders of images, or a CSV or TSV table`);
  const table = await readTable(io, opts.data, limits, opts.labelColumn ?? null);
  const classNames = classesOf(table);
  const held = test === null ? null : await readTable(io, test, limits, table.header ? table.columns[table.labelIndex]! : null);
  if (held && (held.d !== table.d || (table.header && held.header && held.featureNames.join('\u0000') !== table.featureNames.join('\u0000')))) {
    throw new UserDataError({ file: test! }, `its feature columns (${held.featureNames.join(', ')}) are not those of ${opts.data} (${table.featureNames.join(', ')})`);
  }
  const rows = { x: table.x, y: tableLabels(table, classNames, opts.data), n: table.n };
  const testRows = held ? { x: held.x, y: tableLabels(held, classNames, opts.data), n: held.n } : null;
  const data = userData({
    name, kind: 'tabular', shape: [table.d], classNames, rows, testRows, labeled: true,
    source: { data: opts.data, test, testFraction, labelColumn: table.columns[table.labelIndex]! }, featureNames: table.featureNames,
    origin: (i, t) => ({ file: t ? test! : opts.data, row: (t ? held! : table).rows[i] ?? 0 }),
  });
  return { data, warnings };
}
