/**
 * The user's own data read from disk (Node only; the CLI's `--data`): an image folder walked and
 * decoded with sharp, or a CSV/TSV table read as text, then checked and hashed by the shared
 * parsers (layout.ts, table.ts, data.ts).
 *
 * Decoder: sharp (libvips; its native binary ships inside its npm packages, no download at install
 * time) rather than pngjs + jpeg-js. Measured (`npm run bench:decode`, 2,000 images, README "Your
 * own data"): the pure-JS pair decodes tiny 28x28 files faster (sharp's per-call cost dominates
 * there) and is no faster at 96x96, where it has not even resized yet. sharp decodes PNG, JPEG and
 * WebP alike (the pair has no WebP, and no well-kept pure-JS WebP decoder was at hand), resizes in
 * the same call (the pair would need a hand-written resampler), applies EXIF orientation as
 * browsers do, and reads 16-bit, palette and CMYK files. Every image is resized to the chosen size
 * (`fit: 'fill'`: stretched, no crop; an image of that size already is taken as it is) and
 * converted by `storePixels` (luminance for one channel).
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { userData, datasetNameFrom, type UserData } from './data.ts';
import { UserDataError, type DataWarning } from './errors.ts';
import { checkLimits, DEFAULT_LIMITS, folderLayout, IMAGE_FORMATS_TEXT, isImagePath, requireLabeled, type DataLimits, type FolderEntry, type ImageFile } from './layout.ts';
import { DEFAULT_IMAGE_SIZE, storePixels, type ImageSize } from './pixels.ts';
import { classesOf, parseTable, tableLabels, type ParsedTable } from './table.ts';
import { DEFAULT_TEST_FRACTION } from '../catalog.ts';

export interface NodeDataOptions {
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
}

export interface LoadedUserData {
  data: UserData;
  /** Files skipped (not an image, failed to decode, outside the class folders). */
  warnings: DataWarning[];
}

function statOrFail(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserDataError({ file: path }, 'no such file or folder');
    if (code === 'ELOOP') throw new UserDataError({ file: path }, 'a symbolic link loop: the link leads back to itself');
    throw new UserDataError({ file: path }, `cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})`);
  }
}

/**
 * Every file under `root` with its path relative to it ('/'-separated) and size. Symbolic links
 * are followed; one that leads back into a folder it lies in is a loop (refused), a broken one
 * is skipped with a warning. Walking stops once there are far more files than `limits.maxImages`.
 */
export function walkFolder(root: string, warnings: DataWarning[], limits: DataLimits = DEFAULT_LIMITS): FolderEntry[] {
  const out: FolderEntry[] = [];
  const walk = (dir: string, ancestors: readonly string[]) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      throw new UserDataError({ file: dir }, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    for (const name of names) {
      const path = join(dir, name);
      const rel = relative(root, path).split(sep).join('/');
      if (name.startsWith('.')) continue;
      const link = lstatSync(path).isSymbolicLink();
      let st;
      try {
        st = statSync(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP') throw new UserDataError({ file: path }, 'a symbolic link loop: the link leads back to itself');
        warnings.push({ place: { file: path }, message: `${link ? 'a broken symbolic link' : 'cannot be read'} (${code}): skipped` });
        continue;
      }
      if (st.isDirectory()) {
        const real = realpathSync(path);
        if (ancestors.includes(real)) throw new UserDataError({ file: path }, `a symbolic link loop: it leads back to ${real}, a folder it lies in`);
        walk(path, [...ancestors, real]);
      } else if (st.isFile()) {
        out.push({ path: rel, size: st.size });
        if (out.length > limits.maxImages * 2 + 1000) checkLimits(root, out.length, 0, limits, 'files');
      }
    }
  };
  walk(root, [realpathSync(root)]);
  return out;
}

/**
 * One image's pixels at `size` (`storePixels`), or why it cannot be decoded.
 */
export async function decodeImage(bytes: Uint8Array, size: ImageSize, dst: Uint8Array, offset: number): Promise<string | null> {
  const [h, w, c] = size;
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).rotate().resize(w, h, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    storePixels(data, info.channels, h * w, c, dst, offset);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

interface DecodedFolder {
  classNames: string[];
  rows: { x: Uint8Array; y: Uint8Array; n: number };
  files: string[];
}

async function decodeFolder(folder: string, files: readonly ImageFile[], size: ImageSize, warnings: DataWarning[], concurrency: number): Promise<{ x: Uint8Array; y: Uint8Array; n: number; files: string[] }> {
  const d = size[0] * size[1] * size[2];
  const x = new Uint8Array(files.length * d);
  const ok = new Uint8Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const f = files[i]!;
      const bytes = readFileSync(join(folder, f.path));
      const why = await decodeImage(bytes, size, x, i * d);
      if (why === null) ok[i] = 1;
      else warnings.push({ place: { file: `${folder}/${f.path}` }, message: `cannot be decoded as a ${IMAGE_FORMATS_TEXT} image (${why}): skipped` });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const keep = files.map((_, i) => i).filter((i) => ok[i] === 1);
  const kx = keep.length === files.length ? x : new Uint8Array(keep.length * d);
  if (kx !== x) keep.forEach((i, k) => kx.set(x.subarray(i * d, (i + 1) * d), k * d));
  return { x: kx, y: Uint8Array.from(keep, (i) => files[i]!.label ?? 0), n: keep.length, files: keep.map((i) => `${folder}/${files[i]!.path}`) };
}

async function readFolder(folder: string, size: ImageSize, limits: DataLimits, warnings: DataWarning[], concurrency: number, classesFrom: string[] | null): Promise<DecodedFolder> {
  const layout = requireLabeled(folderLayout(folder, walkFolder(folder, warnings, limits), limits));
  warnings.push(...layout.warnings);
  let files = layout.files;
  let classNames = layout.classNames;
  if (classesFrom) {
    const index = new Map(classesFrom.map((c, i) => [c, i]));
    const foreign = layout.classNames.find((c) => !index.has(c));
    if (foreign !== undefined) throw new UserDataError({ file: `${folder}/${foreign}` }, `a class folder the training folder does not have (its classes: ${classesFrom.join(', ')})`);
    files = files.map((f) => ({ ...f, label: index.get(layout.classNames[f.label!]!)! }));
    classNames = classesFrom;
  }
  const rows = await decodeFolder(folder, files, size, warnings, concurrency);
  if (rows.n === 0) throw new UserDataError({ file: folder }, `none of its ${files.length} images could be decoded`);
  return { classNames, rows: { x: rows.x, y: rows.y, n: rows.n }, files: rows.files };
}

function readTable(file: string, limits: DataLimits, labelColumn: string | null): ParsedTable {
  const size = statOrFail(file).size;
  checkLimits(file, 0, size, limits);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
  } catch {
    throw new UserDataError({ file }, 'not UTF-8 text: a CSV or TSV table is text');
  }
  const t = parseTable(file, text, { labelColumn });
  checkLimits(file, t.n, size, limits, 'rows');
  return t;
}

/**
 * Reads, decodes and checks `opts.data` (and `opts.test`).
 * @throws UserDataError for every input that cannot be used (see errors.ts), naming the file.
 */
export async function loadUserDataNode(opts: NodeDataOptions): Promise<LoadedUserData> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const warnings: DataWarning[] = [];
  const test = opts.test ?? null;
  const testFraction = test === null ? (opts.testFraction ?? DEFAULT_TEST_FRACTION) : null;
  const isDir = statOrFail(opts.data).isDirectory();
  if (test !== null && statOrFail(test).isDirectory() !== isDir) {
    throw new UserDataError({ file: test }, `a ${isDir ? 'file' : 'folder'}, but --data ${opts.data} is a ${isDir ? 'folder' : 'file'}: the test set must be of the same kind`);
  }
  const name = opts.name ?? datasetNameFrom(opts.data);
  const concurrency = opts.concurrency ?? 8;
  if (isDir) {
    const size = opts.imageSize ?? DEFAULT_IMAGE_SIZE;
    const train = await readFolder(opts.data, size, limits, warnings, concurrency, null);
    const held = test === null ? null : await readFolder(test, size, limits, warnings, concurrency, train.classNames);
    const data = userData({
      name, kind: 'image', shape: [...size], classNames: train.classNames, rows: train.rows, testRows: held?.rows ?? null,
      source: { data: opts.data, test, testFraction, labelColumn: null }, featureNames: null,
      origin: (i, t) => ({ file: (t ? held!.files : train.files)[i] ?? opts.data }),
    });
    return { data, warnings };
  }
  if (isImagePath(opts.data)) throw new UserDataError({ file: opts.data }, `a single image: --data takes a folder of class folders of images, or a CSV or TSV table`);
  const table = readTable(opts.data, limits, opts.labelColumn ?? null);
  const classNames = classesOf(table);
  const held = test === null ? null : readTable(test, limits, table.header ? table.columns[table.labelIndex]! : null);
  if (held && (held.d !== table.d || (table.header && held.header && held.featureNames.join('\u0000') !== table.featureNames.join('\u0000')))) {
    throw new UserDataError({ file: test! }, `its feature columns (${held.featureNames.join(', ')}) are not those of ${opts.data} (${table.featureNames.join(', ')})`);
  }
  const rows = { x: table.x, y: tableLabels(table, classNames, opts.data), n: table.n };
  const testRows = held ? { x: held.x, y: tableLabels(held, classNames, opts.data), n: held.n } : null;
  const data = userData({
    name, kind: 'tabular', shape: [table.d], classNames, rows, testRows,
    source: { data: opts.data, test, testFraction, labelColumn: table.columns[table.labelIndex]! }, featureNames: table.featureNames,
    origin: (i, t) => ({ file: t ? test! : opts.data, row: (t ? held! : table).rows[i] ?? 0 }),
  });
  return { data, warnings };
}
