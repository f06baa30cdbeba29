/**
 * The user's own data in the page's worker: `File`s from a dropped or picked folder
 * (`webkitRelativePath`, e.g. `pets/cats/001.png`) or a dropped table, decoded with
 * `createImageBitmap` (resized there, EXIF orientation applied) and an `OffscreenCanvas`, then
 * converted by `storePixels` like the CLI's (luminance for one channel, not
 * `tf.browser.fromPixels(img, 1)`'s red channel). Needs a worker or a page: no tfjs, no DOM
 * elements.
 */
import { loadUserData, type DataFiles, type DataOptions, type LoadedUserData } from './assemble.ts';
import { UserDataError } from './errors.ts';
import { checkLimits, type FolderEntry } from './layout.ts';
import { storePixels, type ImageSize } from './pixels.ts';

export interface PickedFile {
  /** `pets/cats/001.png` (a picked folder's `webkitRelativePath`), or the file's name. */
  path: string;
  file: Blob;
}

/** One image file decoded at `size` into `dst` at `offset`, or why it cannot be. */
export async function decodeBlob(blob: Blob, size: ImageSize, dst: Uint8Array, offset: number): Promise<string | null> {
  const [h, w, c] = size;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high', imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  try {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return 'no 2-D canvas in this browser';
    ctx.drawImage(bitmap, 0, 0);
    storePixels(ctx.getImageData(0, 0, w, h).data, 4, w * h, c, dst, offset);
    return null;
  } finally {
    bitmap.close();
  }
}

/** The picked files as `DataFiles` (folders are the paths' prefixes). */
export function pickedFiles(files: readonly PickedFile[]): DataFiles {
  const byPath = new Map(files.map((f) => [f.path, f.file]));
  const get = (path: string) => {
    const f = byPath.get(path);
    if (!f) throw new UserDataError({ file: path }, 'no such file or folder');
    return f;
  };
  return {
    isFolder(path) {
      if (byPath.has(path)) return false;
      if (files.some((f) => f.path.startsWith(`${path}/`))) return true;
      throw new UserDataError({ file: path }, 'no such file or folder');
    },
    list(folder, _warnings, limits) {
      const out: FolderEntry[] = files.filter((f) => f.path.startsWith(`${folder}/`)).map((f) => ({ path: f.path.slice(folder.length + 1), size: f.file.size }));
      if (out.length > limits.maxImages * 2 + 1000) checkLimits(folder, out.length, 0, limits, 'files');
      return out;
    },
    size: (path) => get(path).size,
    bytes: async (path) => new Uint8Array(await get(path).arrayBuffer()),
    decode: (path, size, dst, offset) => decodeBlob(get(path), size, dst, offset),
  };
}

/**
 * Reads, decodes and checks picked files: `opts.data` is the folder (the first part of the
 * paths) or the table's name.
 * @throws UserDataError for every input that cannot be used, naming the file.
 */
export function loadPickedData(files: readonly PickedFile[], opts: DataOptions): Promise<LoadedUserData> {
  return loadUserData(pickedFiles(files), opts);
}
