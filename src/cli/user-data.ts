/**
 * `--data`: the user's own folder or table read for a run, or read again for `--resume` (from
 * where the results say it was, or from `--data` when it moved) and refused when it is not the
 * dataset the results were made on (name and content hash).
 */
import { BUILTIN_DATASETS, withDataset, type DatasetCatalog } from '../../datasets/catalog.ts';
import { describeUserData, identityMismatch, type UserData, type UserDatasetRecord } from '../../datasets/user/data.ts';
import { refuseWarnings, warningText } from '../../datasets/user/errors.ts';
import { DEFAULT_LIMITS } from '../../datasets/user/layout.ts';
import { loadUserDataNode } from '../../datasets/user/node.ts';
import { parseImageSize } from '../../datasets/user/pixels.ts';
import { ResumeError } from '../engine/restore.ts';
import type { CliOptions } from './args.ts';

export interface OpenedUserData {
  data: UserData;
  /** The built-in datasets and this one. */
  datasets: DatasetCatalog;
}

/**
 * Reads `--data` (or, resuming, the data `recorded` names) and prints each skipped file as a
 * warning (refused with `--strict`).
 * @throws UserDataError for data that cannot be used; ResumeError when it is not the recorded dataset.
 */
export async function openUserData(opts: CliOptions, recorded: UserDatasetRecord | null, warn: (line: string) => void): Promise<OpenedUserData> {
  const size = recorded ? recorded.shape : opts.imageSize === null ? null : parseImageSize(opts.imageSize);
  const imageSize = recorded && recorded.kind === 'image' ? ([recorded.shape[0]!, recorded.shape[1]!, recorded.shape[2] as 1 | 3] as const) : Array.isArray(size) ? (size as unknown as readonly [number, number, 1 | 3]) : undefined;
  const source = recorded?.source;
  const loaded = await loadUserDataNode({
    data: opts.data ?? source!.data,
    test: source ? source.test : opts.test,
    ...(source ? (source.testFraction !== null ? { testFraction: source.testFraction } : {}) : opts.testFraction !== null ? { testFraction: opts.testFraction } : {}),
    labelColumn: source ? (recorded!.kind === 'tabular' ? source.labelColumn : null) : opts.labelColumn,
    ...(imageSize ? { imageSize } : {}),
    ...(recorded ? { name: recorded.name } : {}),
    limits: { maxImages: opts.maxImages ?? DEFAULT_LIMITS.maxImages, maxBytes: opts.maxMb === null ? DEFAULT_LIMITS.maxBytes : Math.round(opts.maxMb * 2 ** 20) },
  });
  if (opts.strict) refuseWarnings(loaded.warnings);
  const shown = loaded.warnings.slice(0, 20);
  for (const w of shown) warn(`warning: ${warningText(w)}`);
  if (loaded.warnings.length > shown.length) warn(`warning: ${loaded.warnings.length - shown.length} more files skipped`);
  const data = loaded.data;
  if (recorded) {
    const why = identityMismatch(recorded, data, `--resume ${opts.resume}`);
    if (why) throw new ResumeError(`${why} (read from ${data.source.data}${data.source.test ? ` and ${data.source.test}` : ''}); give the data it was made on with --data`);
  }
  return { data, datasets: withDataset(BUILTIN_DATASETS, describeUserData(data)) };
}
