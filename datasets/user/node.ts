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
import { loadUserData, type DataFiles, type DataOptions, type LoadedUserData } from './assemble.ts';
import { UserDataError, type DataWarning } from './errors.ts';
import { checkLimits, DEFAULT_LIMITS, type DataLimits, type FolderEntry } from './layout.ts';
import { storePixels, type ImageSize } from './pixels.ts';

export type { DataOptions as NodeDataOptions, LoadedUserData };

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
    // Loaded on the first image, not at the top: most CLI runs read no image folder.
    const sharp = (await import('sharp')).default;
    const { data, info } = await sharp(bytes, { failOn: 'error' }).rotate().resize(w, h, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    storePixels(data, info.channels, h * w, c, dst, offset);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Files on disk, decoded with sharp. */
export const nodeFiles: DataFiles = {
  isFolder: (path) => statOrFail(path).isDirectory(),
  list: (folder, warnings, limits) => walkFolder(folder, warnings, limits),
  size: (path) => statOrFail(path).size,
  bytes: async (path) => readFileSync(path),
  decode: async (path, size, dst, offset) => decodeImage(readFileSync(path), size, dst, offset),
};

/**
 * Reads, decodes and checks `opts.data` (and `opts.test`) from disk.
 * @throws UserDataError for every input that cannot be used (see errors.ts), naming the file.
 */
export function loadUserDataNode(opts: DataOptions): Promise<LoadedUserData> {
  return loadUserData(nodeFiles, opts);
}
