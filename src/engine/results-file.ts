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
 * dropped, nothing of the input's prototype is kept) or throws a `ResultsFileError` naming the
 * field path, the value found and what is allowed. The embedded configuration is checked by
 * `resolveConfig`; indices are checked against the configured dataset's sizes.
 */
import { DATASETS } from '../../datasets/index.ts';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, type ExperimentConfig } from './config.ts';
import type { CellRef, ExperimentResults, LabelsToTarget, RoundRecord, RunRecord, RunStatus, StrategySummary, WorkerReport } from './results.ts';

/** The largest results file accepted: 20 MB (MiB), far above a real one (a 4-strategy x 3-repeat x 100-round MNIST run is under 1 MB). */
export const MAX_RESULTS_FILE_BYTES = 20 * 1024 * 1024;
/** Longest string kept from a file (error messages, user agents, renderer names). */
const MAX_STRING = 10_000;

/** A results file or value that is not allowed; the message names the path, the value and what is allowed. */
export class ResultsFileError extends Error {
  override readonly name = 'ResultsFileError';
  constructor(
    /** Where: `file`, or a path such as `results.runs[0].rounds[2].accuracy`. */
    readonly path: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(value === undefined ? `${path} is missing: ${allowed}` : `${path} = ${describe(value)} is not allowed: ${allowed}`);
  }
}

/** A short, safe description of a value found in a file (never the whole of a large value). */
function describe(v: unknown): string {
  if (typeof v === 'string') return v.length > 60 ? `'${v.slice(0, 57)}…' (${v.length} characters)` : `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

export interface ResultsFileOptions {
  /** Reject inputs larger than this many bytes (UTF-8); default MAX_RESULTS_FILE_BYTES (20 MB). */
  maxBytes?: number;
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
  return validateResults(value);
}

/**
 * Reads a Blob (a `File` from an input) only if it is within the limit, then parses it.
 * @throws ResultsFileError, before reading anything when the blob is too large.
 */
export async function readResultsFile(blob: Blob, opts: ResultsFileOptions = {}): Promise<ExperimentResults> {
  const max = limit(opts);
  if (blob.size > max) throw tooLarge(blob.size, max);
  return parseResultsFile(new Uint8Array(await blob.arrayBuffer()), { maxBytes: max });
}

// ---------------------------------------------------------------------------------------------
// Field checks: each takes the value and its path, and returns the checked value.

type Obj = Record<string, unknown>;

function object(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ResultsFileError(path, v, 'an object');
  return v as Obj;
}

function field(o: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function array(v: unknown, path: string, maxLength: number, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ResultsFileError(path, v, `an array of ${what}`);
  if (v.length > maxLength) throw new ResultsFileError(path, v, `an array of at most ${maxLength} ${what}`);
  // A plain copy: the holes of a sparse array become undefined (and are then refused as missing)
  // instead of being skipped by map(), which would pass them on as holes.
  return Array.from(v);
}

/** A finite number in [min, max]; `allowed` replaces the default description of the range. */
function num(v: unknown, path: string, min: number, max: number, allowed?: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = max === Infinity ? (min === -Infinity ? '' : ` at least ${min}`) : ` in [${min}, ${max}]`;
    throw new ResultsFileError(path, v, allowed ?? `a finite number${range}`);
  }
  return v;
}

const MS = 'a duration in milliseconds (a finite number at least 0)';

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ResultsFileError(path, v, `an integer from ${min} to ${max}`);
  }
  return v;
}

function exact(v: unknown, path: string, expected: number, what: string): number {
  if (v !== expected) throw new ResultsFileError(path, v, `${expected}: ${what}`);
  return expected;
}

function str(v: unknown, path: string, maxLength = MAX_STRING): string {
  if (typeof v !== 'string') throw new ResultsFileError(path, v, 'a string');
  if (v.length > maxLength) throw new ResultsFileError(path, v, `a string of at most ${maxLength} characters`);
  return v;
}

function strOrNull(v: unknown, path: string): string | null {
  return v === null ? null : str(v, path);
}

function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ResultsFileError(path, v, `one of ${allowed.join(', ')}`);
  return v as T;
}

// ---------------------------------------------------------------------------------------------

function checkConfig(v: unknown): ExperimentConfig {
  const raw = object(v, 'results.config');
  // An exported configuration has every field; resolveConfig would fill a missing one with its default.
  for (const key of Object.keys(DEFAULT_CONFIG)) {
    if (!Object.prototype.hasOwnProperty.call(raw, key)) throw new ResultsFileError(`results.config.${key}`, undefined, 'every configuration field, as exported');
  }
  try {
    // A fresh object of own fields: resolveConfig fills defaults for missing ones and refuses unknown ones.
    return resolveConfig(Object.fromEntries(Object.entries(raw)) as Partial<ExperimentConfig>);
  } catch (err) {
    if (err instanceof ConfigError) {
      const allowed = err.message.split(' is not allowed: ')[1] ?? err.message;
      throw new ResultsFileError(`results.config.${err.field}`, err.value, allowed);
    }
    throw new ResultsFileError('results.config', raw, `a configuration resolveConfig accepts (${err instanceof Error ? err.message : String(err)})`);
  }
}

const RUN_STATUSES: readonly RunStatus[] = ['complete', 'aborted', 'exhausted', 'failed'];
const RESULT_STATUSES: readonly ExperimentResults['status'][] = ['complete', 'aborted', 'failed'];

function checkRound(v: unknown, path: string, index: number, config: ExperimentConfig, numClasses: number, trainSize: number, seen: Set<number>, labeledBefore: number): RoundRecord {
  const o = object(v, path);
  const round = exact(field(o, 'round'), `${path}.round`, index, 'rounds are numbered 0, 1, 2, … in order');
  const maxSelected = round === 0 ? config.initial : config.query;
  const selectedRaw = array(field(o, 'selected'), `${path}.selected`, maxSelected, `train-split indices (${round === 0 ? 'initial' : 'query'} = ${maxSelected})`);
  if (selectedRaw.length === 0) throw new ResultsFileError(`${path}.selected`, selectedRaw, 'at least one train-split index');
  const selected = selectedRaw.map((x, i) => {
    const p = `${path}.selected[${i}]`;
    const idx = int(x, p, 0, trainSize - 1);
    if (seen.has(idx)) throw new ResultsFileError(p, idx, 'an index not labeled before in this run');
    seen.add(idx);
    return idx;
  });
  const labeled = exact(field(o, 'labeled'), `${path}.labeled`, labeledBefore + selected.length, 'the number of indices selected so far in this run');
  const countsRaw = array(field(o, 'classCounts'), `${path}.classCounts`, numClasses, `counts, one per class of ${config.dataset} (${numClasses})`);
  if (countsRaw.length !== numClasses) throw new ResultsFileError(`${path}.classCounts`, countsRaw, `an array of ${numClasses} counts, one per class of ${config.dataset}`);
  const classCounts = countsRaw.map((x, i) => int(x, `${path}.classCounts[${i}]`, 0, labeled));
  const total = classCounts.reduce((a, b) => a + b, 0);
  if (total !== labeled) throw new ResultsFileError(`${path}.classCounts`, `counts summing to ${total}`, `counts summing to labeled (${labeled})`);
  const scoresRaw = field(o, 'selectedScores');
  let selectedScores: number[] | null = null;
  if (scoresRaw === undefined) throw new ResultsFileError(`${path}.selectedScores`, undefined, `null or an array of ${selected.length} scores, one per selected index`);
  if (scoresRaw !== null) {
    const arr = array(scoresRaw, `${path}.selectedScores`, selected.length, 'scores, one per selected index');
    if (arr.length !== selected.length) throw new ResultsFileError(`${path}.selectedScores`, arr, `null or an array of ${selected.length} scores, one per selected index`);
    selectedScores = arr.map((x, i) => num(x, `${path}.selectedScores[${i}]`, -Infinity, Infinity));
  }
  const msRaw = object(field(o, 'ms'), `${path}.ms`);
  const ms = {
    train: num(field(msRaw, 'train'), `${path}.ms.train`, 0, Infinity, MS),
    predict: num(field(msRaw, 'predict'), `${path}.ms.predict`, 0, Infinity, MS),
    score: num(field(msRaw, 'score'), `${path}.ms.score`, 0, Infinity, MS),
    select: num(field(msRaw, 'select'), `${path}.ms.select`, 0, Infinity, MS),
    evaluate: num(field(msRaw, 'evaluate'), `${path}.ms.evaluate`, 0, Infinity, MS),
  };
  const calRaw = field(o, 'calibration');
  let calibration: RoundRecord['calibration'] = null;
  if (calRaw !== null && calRaw !== undefined) {
    const c = object(calRaw, `${path}.calibration`);
    const nll = object(field(c, 'validationNll'), `${path}.calibration.validationNll`);
    const ece = field(c, 'ece');
    calibration = {
      temperature: num(field(c, 'temperature'), `${path}.calibration.temperature`, Number.MIN_VALUE, Infinity, 'a finite number above 0'),
      // NaN (no calibrated evaluation) is written to JSON as null.
      ece: ece === null ? Number.NaN : num(ece, `${path}.calibration.ece`, 0, 1),
      validationNll: {
        before: num(field(nll, 'before'), `${path}.calibration.validationNll.before`, 0, Infinity),
        after: num(field(nll, 'after'), `${path}.calibration.validationNll.after`, 0, Infinity),
      },
    };
  }
  return {
    round,
    labeled,
    accuracy: num(field(o, 'accuracy'), `${path}.accuracy`, 0, 1),
    loss: num(field(o, 'loss'), `${path}.loss`, 0, Infinity),
    ece: num(field(o, 'ece'), `${path}.ece`, 0, 1),
    calibration,
    classCounts,
    selected,
    selectedScores,
    ms,
  };
}

function checkRun(v: unknown, path: string, config: ExperimentConfig, seenRuns: Set<string>): RunRecord {
  const o = object(v, path);
  const strategy = oneOf(field(o, 'strategy'), `${path}.strategy`, config.strategies);
  const repeat = int(field(o, 'repeat'), `${path}.repeat`, 0, config.repeats - 1);
  const key = `${strategy}#${repeat}`;
  if (seenRuns.has(key)) throw new ResultsFileError(`${path}.repeat`, repeat, `a repeat of ${strategy} not listed before`);
  seenRuns.add(key);
  const status = oneOf(field(o, 'status'), `${path}.status`, RUN_STATUSES);
  const errorRaw = field(o, 'error');
  const spec = DATASETS[config.dataset];
  const roundsRaw = array(field(o, 'rounds'), `${path}.rounds`, config.rounds + 1, `rounds (rounds + 1 = ${config.rounds + 1})`);
  const seen = new Set<number>();
  const rounds: RoundRecord[] = [];
  let labeled = 0;
  roundsRaw.forEach((r, i) => {
    const rec = checkRound(r, `${path}.rounds[${i}]`, i, config, spec.numClasses, spec.sizes.train, seen, labeled);
    labeled = rec.labeled;
    rounds.push(rec);
  });
  return { strategy, repeat, status, ...(errorRaw === undefined ? {} : { error: str(errorRaw, `${path}.error`) }), rounds };
}

function checkSummary(v: unknown, path: string, config: ExperimentConfig): StrategySummary {
  const o = object(v, path);
  const strategy = oneOf(field(o, 'strategy'), `${path}.strategy`, config.strategies);
  const repeats = int(field(o, 'repeats'), `${path}.repeats`, 1, config.repeats);
  const fa = object(field(o, 'finalAccuracy'), `${path}.finalAccuracy`);
  const lt = object(field(o, 'labelsToTarget'), `${path}.labelsToTarget`);
  const spec = DATASETS[config.dataset];
  const perRepeatRaw = array(field(lt, 'perRepeat'), `${path}.labelsToTarget.perRepeat`, repeats, `label counts or nulls, one per repeat (${repeats})`);
  if (perRepeatRaw.length !== repeats) throw new ResultsFileError(`${path}.labelsToTarget.perRepeat`, perRepeatRaw, `an array of ${repeats} label counts or nulls, one per repeat`);
  const perRepeat = perRepeatRaw.map((x, i) => (x === null ? null : int(x, `${path}.labelsToTarget.perRepeat[${i}]`, 1, spec.sizes.train)));
  const meanRaw = field(lt, 'mean');
  const labelsToTarget: LabelsToTarget = {
    target: num(field(lt, 'target'), `${path}.labelsToTarget.target`, Number.MIN_VALUE, 1, 'a number in (0, 1]'),
    mean: meanRaw === null ? null : num(meanRaw, `${path}.labelsToTarget.mean`, 1, spec.sizes.train, `null or a label count from 1 to ${spec.sizes.train}`),
    reached: int(field(lt, 'reached'), `${path}.labelsToTarget.reached`, 0, repeats),
    perRepeat,
  };
  return {
    strategy,
    repeats,
    finalAccuracy: {
      mean: num(field(fa, 'mean'), `${path}.finalAccuracy.mean`, 0, 1),
      std: num(field(fa, 'std'), `${path}.finalAccuracy.std`, 0, 1),
    },
    alc: num(field(o, 'alc'), `${path}.alc`, 0, 1),
    labelsToTarget,
  };
}

/**
 * Checks an already-parsed value (e.g. a run read back from IndexedDB) and returns a fresh copy
 * of the checked fields.
 * @throws ResultsFileError naming the first bad field.
 */
export function validateResults(value: unknown): ExperimentResults {
  const o = object(value, 'results');
  const version = field(o, 'version');
  if (version !== 1) throw new ResultsFileError('results.version', version, '1 (the only results format so far)');
  const config = checkConfig(field(o, 'config'));
  const env = object(field(o, 'environment'), 'results.environment');
  const environment = {
    backend: str(field(env, 'backend'), 'results.environment.backend', 100),
    renderer: strOrNull(field(env, 'renderer') ?? null, 'results.environment.renderer'),
    userAgent: strOrNull(field(env, 'userAgent') ?? null, 'results.environment.userAgent'),
  };
  const status = oneOf(field(o, 'status'), 'results.status', RESULT_STATUSES);
  const startedAt = str(field(o, 'startedAt'), 'results.startedAt', 100);
  if (Number.isNaN(Date.parse(startedAt))) throw new ResultsFileError('results.startedAt', startedAt, 'a date and time (ISO 8601)');
  const elapsedMs = num(field(o, 'elapsedMs'), 'results.elapsedMs', 0, Infinity, MS);
  const maxRuns = config.strategies.length * config.repeats;
  const seenRuns = new Set<string>();
  const runs = array(field(o, 'runs'), 'results.runs', maxRuns, `runs (strategies x repeats = ${maxRuns})`).map((r, i) => checkRun(r, `results.runs[${i}]`, config, seenRuns));
  const seenSummaries = new Set<string>();
  const summary = array(field(o, 'summary'), 'results.summary', config.strategies.length, `strategy summaries (${config.strategies.length} strategies)`).map((s, i) => {
    const checked = checkSummary(s, `results.summary[${i}]`, config);
    if (seenSummaries.has(checked.strategy)) throw new ResultsFileError(`results.summary[${i}].strategy`, checked.strategy, 'a strategy not summarised before');
    seenSummaries.add(checked.strategy);
    return checked;
  });
  const results: ExperimentResults = { version: 1, config, environment, status, startedAt, elapsedMs, runs, summary };
  const memRaw = field(o, 'memory');
  if (memRaw !== undefined) {
    const m = object(memRaw, 'results.memory');
    results.memory = {
      peakBytes: num(field(m, 'peakBytes'), 'results.memory.peakBytes', 0, Infinity, 'a byte count (a finite number at least 0)'),
      peakTensors: int(field(m, 'peakTensors'), 'results.memory.peakTensors', 0, Number.MAX_SAFE_INTEGER),
    };
  }
  const shardRaw = field(o, 'shard');
  if (shardRaw !== undefined) {
    const sh = object(shardRaw, 'results.shard');
    const count = int(field(sh, 'count'), 'results.shard.count', 1, maxRuns);
    results.shard = { index: int(field(sh, 'index'), 'results.shard.index', 0, count - 1), count };
  }
  const cell = (v: unknown, path: string): CellRef => {
    const c = object(v, path);
    return { strategy: oneOf(field(c, 'strategy'), `${path}.strategy`, config.strategies), repeat: int(field(c, 'repeat'), `${path}.repeat`, 0, config.repeats - 1) };
  };
  const absentRaw = field(o, 'absent');
  if (absentRaw !== undefined) results.absent = array(absentRaw, 'results.absent', maxRuns, 'cells').map((c, i) => cell(c, `results.absent[${i}]`));
  const workersRaw = field(o, 'workers');
  if (workersRaw !== undefined) {
    results.workers = array(workersRaw, 'results.workers', 10_000, 'worker reports').map((v, i): WorkerReport => {
      const p = `results.workers[${i}]`;
      const w = object(v, p);
      const shard = field(w, 'shard');
      const exit = field(w, 'exit');
      return {
        worker: int(field(w, 'worker'), `${p}.worker`, 1, Number.MAX_SAFE_INTEGER),
        pid: int(field(w, 'pid'), `${p}.pid`, 0, Number.MAX_SAFE_INTEGER),
        ...(shard === undefined ? {} : { shard: int(shard, `${p}.shard`, 0, maxRuns - 1) }),
        cells: array(field(w, 'cells'), `${p}.cells`, maxRuns, 'cells').map((c, j) => cell(c, `${p}.cells[${j}]`)),
        peakRssBytes: num(field(w, 'peakRssBytes'), `${p}.peakRssBytes`, 0, Infinity, 'a byte count (a finite number at least 0)'),
        peakTensorBytes: num(field(w, 'peakTensorBytes'), `${p}.peakTensorBytes`, 0, Infinity, 'a byte count (a finite number at least 0)'),
        peakTensors: int(field(w, 'peakTensors'), `${p}.peakTensors`, 0, Number.MAX_SAFE_INTEGER),
        exit: exit === null || exit === undefined ? null : str(exit, `${p}.exit`, 200),
      };
    });
  }
  return results;
}
