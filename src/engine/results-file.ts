/**
 * Reading results back: a results JSON file previously exported by ActiveLab (the app's JSON
 * export, the CLI's `results/run.json`), or a results object read back from storage, checked
 * field by field before anything uses it. No DOM here: the same checks serve the app's
 * "Open results…" (in the compute host), the CLI and stored runs.
 *
 *   parseResultsFile(textOrBytes, { maxBytes })   // size, UTF-8, JSON, then validateResults
 *   readResultsFile(blob, { maxBytes })           // checks blob.size before reading a byte
 *   validateResults(value)                        // an already-parsed value
 *
 * Each returns a fresh `ExperimentResults` built only from the checked fields (unknown fields are
 * dropped, nothing of the input's prototype is kept), with a summary recomputed from its runs (a
 * file's own summary is checked for shape and never trusted), or throws a `ResultsFileError`
 * naming the field path, the value found and what is allowed. The checks are the results schema
 * (results-schema.ts), which the page's IndexedDB store uses too: the embedded configuration is
 * checked by `resolveConfig`, indices against the configured dataset's sizes in the catalog.
 */
import { BUILTIN_DATASETS, DatasetDescriptionError, withDataset, type DatasetCatalog } from '../../datasets/catalog.ts';
import { describeRecord, identityMismatch, userDatasetRecordSchema } from '../../datasets/user/data.ts';
import { check, isRecord, onePer, problemMessage } from '../schema.ts';
import type { ExperimentResults } from './results.ts';
import { resultsSchema } from './results-schema.ts';

/** The largest results file accepted: 20 MB (MiB), far above a real one (a 4-strategy x 3-repeat x 100-round MNIST run is under 1 MB). */
export const MAX_RESULTS_FILE_BYTES = 20 * 1024 * 1024;

/** A results file or value that is not allowed; the message names the path, the value and what is allowed. */
export class ResultsFileError extends Error {
  override readonly name = 'ResultsFileError';
  constructor(
    /** Where: `file`, or a path such as `results.runs[0].rounds[2].accuracy`. */
    readonly path: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(problemMessage({ path, value, allowed }));
  }
}

export interface ResultsFileOptions {
  /** Reject inputs larger than this many bytes (UTF-8); default MAX_RESULTS_FILE_BYTES (20 MB). */
  maxBytes?: number;
  /** The datasets a results file may refer to; default the built-in ones. */
  datasets?: DatasetCatalog;
}

function limit(opts: ResultsFileOptions): number {
  const max = opts.maxBytes ?? MAX_RESULTS_FILE_BYTES;
  if (!(Number.isInteger(max) && max > 0)) throw new RangeError(`maxBytes must be a positive integer, got ${String(max)}`);
  return max;
}

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toLocaleString('en', { maximumFractionDigits: 1 })} MB`;

function tooLarge(size: number, max: number): ResultsFileError {
  return new ResultsFileError('file', `${size} bytes`, `at most ${max} bytes (${mb(max)}): a results file exported by ActiveLab`);
}

/** UTF-8 length of a string, counted without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Parses and checks a results file given as text or bytes (UTF-8).
 * @throws ResultsFileError for anything but a valid results file.
 */
export function parseResultsFile(input: string | Uint8Array | ArrayBuffer, opts: ResultsFileOptions = {}): ExperimentResults {
  const max = limit(opts);
  let text: string;
  if (typeof input === 'string') {
    if (input.length > max || (input.length * 3 > max && utf8Length(input) > max)) throw tooLarge(utf8Length(input), max);
    text = input;
  } else if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    if (input.byteLength > max) throw tooLarge(input.byteLength, max);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new ResultsFileError('file', 'bytes that are not UTF-8 text', 'a UTF-8 JSON file exported by ActiveLab');
    }
  } else {
    throw new ResultsFileError('file', input, 'text or bytes');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ResultsFileError('file', 'text that is not JSON', `a JSON file exported by ActiveLab (the parser says: ${why.length > 120 ? `${why.slice(0, 117)}…` : why})`);
  }
  return validateResults(value, opts);
}

/**
 * Reads a Blob (a `File` from an input) only if it is within the limit, then parses it.
 * @throws ResultsFileError, before reading anything when the blob is too large.
 */
export async function readResultsFile(blob: Blob, opts: ResultsFileOptions = {}): Promise<ExperimentResults> {
  const max = limit(opts);
  if (blob.size > max) throw tooLarge(blob.size, max);
  return parseResultsFile(new Uint8Array(await blob.arrayBuffer()), { ...opts, maxBytes: max });
}

/**
 * `datasets` with the user dataset a results value records (its `dataset`), so that the file is
 * read on its own: its config may name the dataset it was made on. A record that does not fit the
 * catalog (a name of another dataset, or of the same name with other content) is refused, saying
 * which; a malformed record is left to the schema.
 */
function withRecordedDataset(datasets: DatasetCatalog, value: unknown): DatasetCatalog {
  if (!isRecord(value) || value.dataset === undefined) return datasets;
  const rec = check(userDatasetRecordSchema, value.dataset, 'results.dataset');
  if (!rec.ok) throw new ResultsFileError(rec.problem.path, rec.problem.value, rec.problem.allowed);
  const known = datasets.get(rec.value.name);
  if (known) {
    if (known.hash === rec.value.hash) return datasets;
    const why = identityMismatch(rec.value, known, 'this results file');
    throw new ResultsFileError('results.dataset', `'${rec.value.name}' (hash ${rec.value.hash.slice(0, 16)}…)`, `the dataset it was made on: ${why}`);
  }
  try {
    return withDataset(datasets, describeRecord(rec.value));
  } catch (err) {
    if (err instanceof DatasetDescriptionError) throw new ResultsFileError(err.path.replace(/^dataset/, 'results.dataset'), err.value, err.allowed);
    throw err;
  }
}

const resultsSchemaOf = onePer((datasets: DatasetCatalog) => resultsSchema(datasets));

/**
 * Checks an already-parsed value (e.g. a run read back from storage) with the results schema
 * (results-schema.ts) and returns a fresh copy of the checked fields, its summary recomputed from
 * its runs.
 * @throws ResultsFileError naming the first bad field.
 */
export function validateResults(value: unknown, opts: Pick<ResultsFileOptions, 'datasets'> = {}): ExperimentResults {
  const r = check(resultsSchemaOf(withRecordedDataset(opts.datasets ?? BUILTIN_DATASETS, value)), value, 'results');
  if (!r.ok) throw new ResultsFileError(r.problem.path, r.problem.value, r.problem.allowed);
  return r.value;
}
