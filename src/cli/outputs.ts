/**
 * Where the CLI writes, checked before any work (issue 17): a run must never compute for hours and
 * then fail to write. `plannedOutputs` lists every output of a run; `checkOutputs` makes sure each
 * can be written (creating missing folders one level at a time, then creating and removing a probe
 * file beside the target) and refuses with an `OutputError` (a usage error, exit code 2) naming
 * the path and the reason. At the end `writeOutputFile` writes each file atomically (a temporary
 * file in the same folder, then a rename), and if that still fails the caller puts the results in
 * `writeFallback`'s file in the system's temporary folder.
 *
 * Folders are made with a plain `mkdir` per missing level, never `mkdirSync(…, { recursive: true })`,
 * which under /proc (where mkdir answers ENOENT) retries forever.
 *
 * A new output (a journal beside the results, a `--save-models` folder) is one more entry in
 * `plannedOutputs`; `checkOutputs` already handles folders as well as files.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { RunOptions } from './args.ts';
import { UsageError } from './args.ts';

export interface OutputTarget {
  /** What it is, for messages: 'results JSON', 'CSV', 'SVG chart'. */
  what: string;
  /** The flag that names it, for messages. */
  flag: string;
  /** Absolute path. */
  path: string;
  /** A file (written atomically beside itself) or a folder (the output writes files inside it). */
  kind: 'file' | 'folder';
}

/** The file-system calls the outputs make, so that tests can make one of them fail. */
export interface OutputFs {
  /** Whether `path` is a folder, or null when nothing is there (ENOENT, or ENOTDIR: a parent is a file). */
  isFolder(path: string): boolean | null;
  /** Creates one folder; its parent must exist. */
  mkdir(path: string): void;
  /** Creates `path` with `data`; fails if it exists. */
  create(path: string, data: string | Uint8Array): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
}

export const nodeFs: OutputFs = {
  isFolder(path) {
    try {
      return fs.statSync(path).isDirectory();
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return null;
      throw err;
    }
  },
  mkdir: (path) => fs.mkdirSync(path),
  create: (path, data) => {
    // Flushed to the disk before it is closed, so that a rename over the target after a power cut
    // leaves the old file or the whole new one.
    const fd = fs.openSync(path, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
  remove: (path) => fs.unlinkSync(path),
};

/** An output that cannot be written: a usage error naming the path and the reason. */
export class OutputError extends UsageError {
  constructor(
    readonly target: OutputTarget,
    reason: string,
  ) {
    super(`${target.flag}: cannot write the ${target.what} to ${target.path}: ${reason}`);
  }
}

/** The outputs of a run of `npm run experiment`, by name; `checkOutputs(Object.values(…))` checks them all. */
export interface RunOutputs {
  json: OutputTarget;
  csv: OutputTarget;
  svg: OutputTarget;
  /** The journal of completed rounds (journal.ts), removed once the results JSON is written. */
  journal: OutputTarget;
  /** With --save-models: the folder of the runs' final models. */
  models?: OutputTarget;
}

/**
 * The results JSON at --out and, beside it, the CSV, the SVG chart and the journal (`run.json` ->
 * `run.journal.jsonl`); with --save-models, its folder.
 */
export function plannedOutputs(run: Pick<RunOptions, 'out'> & Partial<Pick<RunOptions, 'saveModels'>>): RunOutputs {
  const json = resolve(run.out);
  const stem = json.replace(/\.json$/i, '');
  return {
    json: { what: 'results JSON', flag: '--out', path: json, kind: 'file' },
    csv: { what: 'CSV', flag: '--out', path: `${stem}.csv`, kind: 'file' },
    svg: { what: 'SVG chart', flag: '--out', path: `${stem}.svg`, kind: 'file' },
    journal: { what: 'journal', flag: '--out', path: `${stem}.journal.jsonl`, kind: 'file' },
    ...(run.saveModels != null ? { models: { what: 'final models', flag: '--save-models', path: resolve(run.saveModels), kind: 'folder' as const } } : {}),
  };
}

/**
 * Writes one run's final model into `<folder>/<strategy>-r<repeat>/` (created if missing) as
 * model.json and weights.bin, each atomically, the weights first. Returns that folder.
 * @throws the file system's error.
 */
export function writeModelFolder(folder: string, run: { strategy: string; repeat: number }, files: { modelJson: string; weights: ArrayBuffer }, io: OutputFs = nodeFs): string {
  const dir = join(folder, `${run.strategy}-r${run.repeat}`);
  if (io.isFolder(dir) !== true) io.mkdir(dir);
  writeOutputFile(join(dir, 'weights.bin'), new Uint8Array(files.weights), io);
  writeOutputFile(join(dir, 'model.json'), files.modelJson, io);
  return dir;
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
}

const PLAIN: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ENOENT: 'the file system refuses to create it',
  ENOTDIR: 'a parent is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it exists',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'an input/output error',
};

/** A file-system error in words, with its code: "permission denied (EACCES)". */
export function fsReason(err: unknown): string {
  const code = codeOf(err);
  if (code !== undefined) return `${PLAIN[code] ?? (err as Error).message} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/** A name beside `path` that no other process picks: `.run.json.<pid>-<random>.<suffix>`. */
function besideName(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.${suffix}`);
}

/** Creates the missing folders of `folder`, outermost first, one plain mkdir each. */
function ensureFolder(target: OutputTarget, folder: string, io: OutputFs): void {
  const missing: string[] = [];
  for (let p = folder; ; p = dirname(p)) {
    let isFolder: boolean | null;
    try {
      isFolder = io.isFolder(p);
    } catch (err) {
      throw new OutputError(target, `cannot look at ${p}: ${fsReason(err)}`);
    }
    if (isFolder === true) break;
    if (isFolder === false) throw new OutputError(target, `${p} is a file, not a folder`);
    if (dirname(p) === p) throw new OutputError(target, `${p} does not exist`);
    missing.unshift(p);
  }
  for (const p of missing) {
    try {
      io.mkdir(p);
    } catch (err) {
      throw new OutputError(target, `cannot create the folder ${p}: ${fsReason(err)}`);
    }
  }
}

/**
 * Makes sure every target can be written, before any work.
 * @throws OutputError for the first one that cannot, naming its path and why.
 */
export function checkOutputs(targets: readonly OutputTarget[], io: OutputFs = nodeFs): void {
  const seen = new Map<string, OutputTarget>();
  for (const t of targets) {
    const other = seen.get(t.path);
    if (other) throw new OutputError(t, `the ${other.what} (${other.flag}) is written there too`);
    seen.set(t.path, t);
  }
  for (const t of targets) {
    const folder = t.kind === 'folder' ? t.path : dirname(t.path);
    if (t.kind === 'file') {
      let isFolder: boolean | null;
      try {
        isFolder = io.isFolder(t.path);
      } catch (err) {
        throw new OutputError(t, `cannot look at it: ${fsReason(err)}`);
      }
      if (isFolder === true) throw new OutputError(t, 'it is a folder; give a file name');
    }
    ensureFolder(t, folder, io);
    const probe = besideName(t.kind === 'folder' ? join(t.path, 'probe') : t.path, 'probe');
    try {
      io.create(probe, '');
    } catch (err) {
      throw new OutputError(t, `cannot create a file in ${folder}: ${fsReason(err)}`);
    }
    try {
      io.remove(probe);
    } catch (err) {
      throw new OutputError(t, `cannot remove the probe file ${probe}: ${fsReason(err)}`);
    }
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same folder, then a rename over the
 * target, so a reader sees the old file or the new one, never half of one.
 * @throws the file system's error (the temporary file is removed).
 */
export function writeOutputFile(path: string, data: string | Uint8Array, io: OutputFs = nodeFs): void {
  const tmp = besideName(path, 'tmp');
  try {
    io.create(tmp, data);
    io.rename(tmp, path);
  } catch (err) {
    try {
      io.remove(tmp);
    } catch {
      // It was never created, or cannot be removed either: the original error says more.
    }
    throw err;
  }
}

/**
 * Writes `data` to a new file in the system's temporary folder and returns its path: where the
 * results go when their own path could not be written at the end of a run.
 * @throws the file system's error.
 */
export function writeFallback(data: string, stem: string, io: OutputFs = nodeFs, folder = tmpdir()): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(folder, `${stem}-${stamp}-${process.pid}.json`);
  io.create(path, data);
  return path;
}
