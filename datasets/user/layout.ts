/**
 * An image folder's layout, from the list of its files (relative paths and sizes), the same for
 * the CLI (which walks the folder) and the page (a dropped or picked folder's files):
 *
 * - labeled: one subfolder per class (`cats/…`, `dogs/…`; deeper folders count for their class
 *   folder); class names are the folder names in sorted order, and files are taken in path order;
 * - unlabeled: images directly in the folder and no class subfolders. Taken only by "Label it
 *   yourself" in the page, where the person names the classes (`unlabeledData`, `parseClassNames`)
 *   and gives every label; refused everywhere else by `requireLabeled`.
 *
 * Files and folders whose name starts with "." are ignored (.DS_Store, .git). Any other file that
 * is not PNG, JPEG or WebP by its extension is skipped with a warning, and so is an image lying
 * beside the class folders of a labeled folder. Limits are checked here, before anything is read.
 */
import { UserDataError, type DataWarning } from './errors.ts';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;
export const IMAGE_FORMATS_TEXT = 'PNG, JPEG or WebP';

export interface DataLimits {
  /** Most images of a folder (and rows of a table); default 100,000. */
  maxImages: number;
  /** Most bytes of the files read; default 500 MB (500 * 2^20 bytes). */
  maxBytes: number;
}

export const DEFAULT_LIMITS: DataLimits = { maxImages: 100_000, maxBytes: 500 * 2 ** 20 };

export interface FolderEntry {
  /** Relative to the folder, '/'-separated: `cats/001.png`. */
  path: string;
  size: number;
}

export interface ImageFile extends FolderEntry {
  /** Index into the layout's class names; null in an unlabeled folder. */
  label: number | null;
}

export type FolderLayout =
  | { labeled: true; folder: string; classNames: string[]; files: ImageFile[]; warnings: DataWarning[] }
  | { labeled: false; folder: string; classNames: null; files: ImageFile[]; warnings: DataWarning[] };

export const mb = (bytes: number) => `${(bytes / 2 ** 20).toLocaleString('en', { maximumFractionDigits: 1 })} MB`;

export function isImagePath(path: string): boolean {
  const lower = path.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Checks the number of images and their bytes against the limits (`what` names the folder or file). */
export function checkLimits(what: string, count: number, bytes: number, limits: DataLimits, unit = 'images'): void {
  if (count > limits.maxImages) {
    throw new UserDataError({ file: what }, `${count.toLocaleString('en')} ${unit}, over the limit of ${limits.maxImages.toLocaleString('en')} (raise it with --max-images)`);
  }
  if (bytes > limits.maxBytes) throw new UserDataError({ file: what }, `${mb(bytes)} of files, over the limit of ${mb(limits.maxBytes)} (raise it with --max-mb)`);
}

/**
 * The layout of `folder` (its name as shown in messages) from its files.
 * @throws UserDataError for an empty folder (no images) or one over the limits.
 */
export function folderLayout(folder: string, entries: readonly FolderEntry[], limits: DataLimits = DEFAULT_LIMITS): FolderLayout {
  const warnings: DataWarning[] = [];
  const at = (path: string) => ({ file: `${folder}/${path}` });
  const images: FolderEntry[] = [];
  let others = 0;
  for (const e of [...entries].sort((a, b) => byCodePoint(a.path, b.path))) {
    const parts = e.path.split('/');
    if (parts.some((p) => p.startsWith('.'))) continue;
    if (isImagePath(e.path)) images.push(e);
    else {
      others++;
      warnings.push({ place: at(e.path), message: `not a ${IMAGE_FORMATS_TEXT} image (by its extension): skipped` });
    }
  }
  const inClass = images.filter((e) => e.path.includes('/'));
  const loose = images.filter((e) => !e.path.includes('/'));
  if (images.length === 0) {
    throw new UserDataError({ file: folder }, `an empty folder: it holds no ${IMAGE_FORMATS_TEXT} images${others ? ` (${others} other file${others === 1 ? '' : 's'})` : ''}`);
  }
  if (inClass.length === 0) {
    checkLimits(folder, loose.length, loose.reduce((a, e) => a + e.size, 0), limits);
    return { labeled: false, folder, classNames: null, files: loose.map((e) => ({ ...e, label: null })), warnings };
  }
  for (const e of loose) warnings.push({ place: at(e.path), message: 'an image beside the class folders, in none of them: skipped' });
  checkLimits(folder, inClass.length, inClass.reduce((a, e) => a + e.size, 0), limits);
  const classNames = [...new Set(inClass.map((e) => e.path.split('/')[0]!))].sort(byCodePoint);
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { labeled: true, folder, classNames, files: inClass.map((e) => ({ ...e, label: index.get(e.path.split('/')[0]!)! })), warnings };
}

/** Whether the folder is unlabeled (images, no class folders): what only "Label it yourself" takes. */
export function isUnlabeledFolder(layout: FolderLayout): layout is Extract<FolderLayout, { labeled: false }> {
  return !layout.labeled;
}

/** The most classes an unlabeled folder may be given: "Label it yourself" answers with the keys 0-9. */
export const MAX_UNLABELED_CLASSES = 10;

/** Where a refused unlabeled folder was given: the CLI, or the page (where naming its classes takes it). */
export type UnlabeledContext = 'cli' | 'page';

/** Why an unlabeled folder is refused where it was given (the CLI, or the page without class names). */
export function unlabeledRefusal(folder: string, images: number, context: UnlabeledContext): string {
  const how = context === 'page'
    ? 'name its classes in the Classes field (e.g. "cat, dog") and add it again, then label it in "Label it yourself"'
    : 'add it in the page, name its classes there and label it in "Label it yourself"';
  return `an unlabeled folder (${images} images, no class subfolders): unlabeled images are taken only by "Label it yourself" in the page, where you give every label: ${how}; to train on it here, put each class's images in a subfolder named by the class (${folder}/cats/…, ${folder}/dogs/…)`;
}

/**
 * The class names a person gives an unlabeled folder, from text such as "cat, dog, bird" (commas or
 * new lines between them): 2 to 10 distinct names of 1 to 100 characters, in the order given (the
 * first is key 0). Returns the names, or what is wrong with the text.
 */
export function parseClassNames(text: string): string[] | string {
  const names = text.split(/[,\n]/).map((t) => t.trim()).filter((t) => t !== '');
  if (names.length < 2) return `${names.length === 0 ? 'no class names' : `one class name (${names[0]})`}: name 2 to ${MAX_UNLABELED_CLASSES} classes, separated by commas (e.g. "cat, dog")`;
  if (names.length > MAX_UNLABELED_CLASSES) return `${names.length} class names: at most ${MAX_UNLABELED_CLASSES}, as the keys 0-9 label them`;
  const long = names.find((n) => n.length > 100);
  if (long !== undefined) return `the class name '${long.slice(0, 40)}…' is longer than 100 characters`;
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) return `the class name '${twice}' is given twice: the classes must differ`;
  return names;
}

/**
 * The layout of a labeled folder with at least two classes.
 * @throws UserDataError for an unlabeled folder (taken only by "Label it yourself": the message
 *   says so, and how, for `context`) or a single class.
 */
export function requireLabeled(layout: FolderLayout, context: UnlabeledContext = 'cli'): Extract<FolderLayout, { labeled: true }> {
  if (!layout.labeled) throw new UserDataError({ file: layout.folder }, unlabeledRefusal(layout.folder, layout.files.length, context));
  if (layout.classNames.length < 2) {
    throw new UserDataError({ file: layout.folder }, `a single class (${layout.classNames[0]}): at least two class folders are needed`);
  }
  return layout;
}
