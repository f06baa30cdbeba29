/**
 * The one schema of what ActiveLab records of an experiment (valibot, messages in src/schema.ts):
 * the configuration, runs and their rounds. The results-file reader (results-file.ts) and the
 * page's IndexedDB store (src/app/store.ts) both check with it, so a round read back from storage
 * passes exactly the checks a round in a results file does.
 *
 * Checked against the configuration and its dataset (from the catalog): indices within the train
 * split, one count per class, at most `initial` / `query` rows per round, rounds numbered in order,
 * no row labeled twice in a run, counts that add up; a sweep's optional fields (`shard`, the
 * `absent` cells of a merge, the `workers` that ran the cells) name cells of the configuration.
 * Plain data, no tfjs: the page imports it.
 */
import * as v from 'valibot';
import { BUILTIN_DATASETS, type DatasetCatalog, type DatasetDescription } from '../../datasets/catalog.ts';
import { userDatasetRecordSchema } from '../../datasets/user/data.ts';
import { BACKEND_NAMES } from '../backend/catalog.ts';
import { bool, int, isRecord, list, nestedInto, num, obj, oneOf, pathItem, relations, sequence, str, type SequenceState } from '../schema.ts';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, type ExperimentConfig } from './config.ts';
import { decodePixels, takesAdded, type AddedRecord } from './added.ts';
import { MAX_ADDED_PER_ROUND, ORACLE_KINDS } from './oracle.ts';
import { STOP_CRITERIA } from './stopping.ts';
import { summarize, type CellRef, type ExperimentResults, type RoundRecord, type RunRecord, type RunStatus, type WorkerReport } from './results.ts';

/** Longest string kept (error messages, user agents, renderer names). */
export const MAX_STRING = 10_000;
const MS = 'a duration in milliseconds (a finite number at least 0)';
const BYTES = 'a byte count (a finite number at least 0)';
const COUNT = Number.MAX_SAFE_INTEGER;

export const RUN_STATUSES: readonly RunStatus[] = ['complete', 'aborted', 'exhausted', 'failed'];
export const RESULT_STATUSES: readonly ExperimentResults['status'][] = ['complete', 'aborted', 'failed'];

/**
 * Configuration fields added after results files existed, with the value that means what a file
 * without them computed (no noise, no stopping advice, no committee strategy could run, top-k
 * batches, `epochs` only): read so when absent.
 */
export const LATER_CONFIG_FIELDS: Partial<ExperimentConfig> = {
  oracleNoise: 0, stopSet: 0, stopWhen: 'never',
  committee: DEFAULT_CONFIG.committee, stochastic: null, stochasticBeta: DEFAULT_CONFIG.stochasticBeta, minSteps: 0,
};

/** A configuration as exported: every field present (but `LATER_CONFIG_FIELDS`), and accepted by `resolveConfig` (whose message it keeps). */
export function configSchema(datasets: DatasetCatalog = BUILTIN_DATASETS) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isRecord, 'an object'),
    v.rawTransform<Record<string, unknown>, ExperimentConfig>(({ dataset, addIssue, NEVER }) => {
      const raw = { ...LATER_CONFIG_FIELDS, ...dataset.value };
      // resolveConfig would fill a missing field with its default.
      const missing = Object.keys(DEFAULT_CONFIG).find((key) => !Object.hasOwn(raw, key));
      if (missing) {
        addIssue({ message: 'every configuration field, as exported', input: undefined, path: [pathItem(raw, missing)] });
        return NEVER;
      }
      try {
        // A fresh object of own fields: resolveConfig refuses unknown ones.
        return resolveConfig(Object.fromEntries(Object.entries(raw)) as Partial<ExperimentConfig>, { datasets });
      } catch (err) {
        if (err instanceof ConfigError) addIssue({ message: err.allowed, input: err.value, path: [pathItem(raw, err.field)] });
        else addIssue({ message: `a configuration resolveConfig accepts (${err instanceof Error ? err.message : String(err)})` });
        return NEVER;
      }
    }),
  );
}

/** One backend's calibration timing (`BackendTiming`, src/backend/auto-choice.ts). */
const timingSchema = obj({
  backend: oneOf(BACKEND_NAMES),
  ms: num(0, Infinity, MS),
  complete: bool(),
  warmupMs: num(0, Infinity, MS),
  stepMs: v.nullable(num(0, Infinity, MS)),
  predictMs: v.nullable(num(0, Infinity, MS)),
  timedOutAfterMs: v.optional(v.nullable(num(0, Infinity, MS)), null),
  renderer: v.nullable(str(MAX_STRING)),
  error: v.nullable(str(MAX_STRING)),
});

/** How `backend: 'auto'` was resolved (`BackendChoiceRecord`); absent in files written before 'auto' existed, or for an explicit backend. */
export const backendChoiceSchema = obj({
  requested: v.custom<'auto'>((x) => x === 'auto', "'auto'"),
  picked: oneOf(BACKEND_NAMES),
  reason: str(MAX_STRING),
  timings: list(timingSchema, BACKEND_NAMES.length, 'timings'),
  cached: bool(),
});

/** What the checks of runs and rounds read: the (checked) configuration and its dataset. */
export interface RecordContext {
  config: ExperimentConfig;
  dataset: DatasetDescription;
}

export function recordContext(config: ExperimentConfig, datasets: DatasetCatalog = BUILTIN_DATASETS): RecordContext {
  const dataset = datasets.get(config.dataset);
  if (!dataset) throw new RangeError(`dataset '${config.dataset}' is not in the catalog`); // resolveConfig checked it
  return { config, dataset };
}

/** Which round is checked, and what the rounds before it leave behind: the labeled count, every row labeled so far, and the examples added. */
interface RoundsSoFar extends SequenceState {
  labeled: number;
  seen: Set<number>;
  added: number;
}

/**
 * A round's added examples (`RoundRecord.added`: not dataset rows, e.g. drawn digits): a class each
 * and the base64 of one example's uint8 values. Only image datasets take them.
 */
function addedSchema(dataset: DatasetDescription) {
  const d = dataset.shape.reduce((a, b) => a * b, 1);
  const item = v.pipe(
    obj({
      label: int(0, dataset.numClasses - 1, `a class from 0 to ${dataset.numClasses - 1}`),
      pixels: v.pipe(
        str(4 * Math.ceil(d / 3)),
        v.check((t) => decodePixels(t)?.length === d, `the base64 of ${d} uint8 values (one ${dataset.shape.join('x')} example)`),
      ),
    }),
    v.transform((e): AddedRecord => ({ label: e.label, pixels: e.pixels })),
  );
  if (!takesAdded(dataset.kind)) return v.custom<AddedRecord[]>(() => false, `absent: only image datasets take added examples, ${dataset.name} is ${dataset.kind}`);
  return list(item, MAX_ADDED_PER_ROUND, `added examples (at most ${MAX_ADDED_PER_ROUND} a round)`);
}

const calibrationSchema = obj({
  temperature: num(Number.MIN_VALUE, Infinity, 'a finite number above 0'),
  // NaN (no calibrated evaluation) is written to JSON as null.
  ece: v.pipe(
    v.custom<number | null>((x) => x === null || (typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1), 'a finite number in [0, 1]'),
    v.transform((x) => (x === null ? Number.NaN : x)),
  ),
  validationNll: obj({ before: num(0, Infinity), after: num(0, Infinity) }),
});

/** A test measure (or its summary): `schema` on a dataset with labels, null on one without (no test set to evaluate on). */
function measured<S extends v.GenericSchema>(dataset: { unlabeled?: boolean | undefined }, schema: S) {
  return dataset.unlabeled ? v.custom<null>((x) => x === null, 'null: a dataset without labels has no test set to evaluate on') : schema;
}

const firstRepeat = (xs: readonly number[]) => xs.findIndex((x, i) => xs.indexOf(x) !== i);

/** The round `before.index` of a run, after the rounds before it (`before`: read as each round is checked). */
function roundSchema({ config, dataset }: RecordContext, before: RoundsSoFar) {
  const maxSelected = () => (before.index === 0 ? config.initial : config.query);
  const what = () => `train-split indices (${before.index === 0 ? 'initial' : 'query'} = ${maxSelected()})`;
  const unseen = 'an index not labeled before in this run';
  return v.pipe(
    obj({
      round: v.custom<number>((x) => x === before.index, () => `${before.index}: rounds are numbered 0, 1, 2, … in order`),
      selected: v.pipe(
        v.custom<unknown[]>(Array.isArray, () => `an array of ${what()}`),
        v.check((a) => a.length <= maxSelected(), () => `an array of at most ${maxSelected()} ${what()}`),
        v.array(v.pipe(int(0, dataset.sizes.train - 1), v.check((i) => !before.seen.has(i), unseen))),
        v.minLength(1, 'at least one train-split index'),
        relations<number[]>((s) => {
          const i = firstRepeat(s);
          return i < 0 ? undefined : { path: [i], value: s[i], allowed: unseen };
        }),
      ),
      // Checked against the selected indices below.
      labeled: v.optional(v.unknown()),
      classCounts: v.pipe(
        list(v.unknown(), dataset.numClasses, `counts, one per class of ${config.dataset} (${dataset.numClasses})`),
        v.length(dataset.numClasses, `an array of ${dataset.numClasses} counts, one per class of ${config.dataset}`),
      ),
      selectedScores: v.optional(v.nullable(list(num(-Infinity, Infinity), Math.max(config.initial, config.query), 'scores, one per selected index'))),
      labels: v.optional(list(int(-1, dataset.numClasses - 1, `a class from 0 to ${dataset.numClasses - 1}, or -1 (skipped)`), Math.max(config.initial, config.query), 'labels, one per selected index')),
      agreed: v.optional(list(v.nullable(bool()), Math.max(config.initial, config.query), 'agreements (true, false or null), one per selected index')),
      added: v.optional(addedSchema(dataset)),
      stopping: v.optional(obj({
        kappa: v.nullable(num(-1, 1)),
        overallUncertainty: num(0, 1),
        maxConfidence: v.nullable(num(0, 1)),
      })),
      ms: obj({ train: num(0, Infinity, MS), predict: num(0, Infinity, MS), score: num(0, Infinity, MS), select: num(0, Infinity, MS), evaluate: num(0, Infinity, MS) }),
      calibration: v.optional(v.nullable(calibrationSchema)),
      accuracy: measured(dataset, num(0, 1)),
      loss: measured(dataset, num(0, Infinity)),
      ece: measured(dataset, num(0, 1)),
    }),
    relations(
      (r) => (r.added === undefined || before.index > 0 ? undefined
        : { path: ['added'], value: r.added, allowed: 'absent in round 0: examples are added with the answer to a query' }),
      (r) => {
        const n = r.selected.length;
        return r.labels === undefined || r.labels.length === n ? undefined : { path: ['labels'], value: r.labels, allowed: `an array of ${n} labels, one per selected index` };
      },
      (r) => {
        const n = r.selected.length;
        if (r.agreed === undefined) return undefined;
        if (r.agreed.length !== n) return { path: ['agreed'], value: r.agreed, allowed: `an array of ${n} agreements, one per selected index` };
        const i = r.agreed.findIndex((a, j) => (a === null) !== (r.labels !== undefined && r.labels[j] === -1));
        return i < 0 ? undefined : { path: ['agreed', i], value: r.agreed[i], allowed: 'null exactly where the label is -1 (skipped)' };
      },
      (r) => {
        const added = r.added?.length ?? 0;
        const labeled = before.labeled + r.selected.length - (r.labels?.filter((l) => l === -1).length ?? 0) + added;
        const what = before.added + added > 0 ? ', plus the examples added' : '';
        return r.labeled === labeled ? undefined : { path: ['labeled'], value: r.labeled, allowed: `${labeled}: the number of indices selected and not skipped so far in this run${what}` };
      },
      (r) => {
        const labeled = r.labeled as number;
        const i = r.classCounts.findIndex((c) => !(typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= labeled));
        return i < 0 ? undefined : { path: ['classCounts', i], value: r.classCounts[i], allowed: `an integer from 0 to ${labeled}` };
      },
      (r) => {
        const total = (r.classCounts as number[]).reduce((a, b) => a + b, 0);
        return total === r.labeled ? undefined : { path: ['classCounts'], value: `counts summing to ${total}`, allowed: `counts summing to labeled (${r.labeled})` };
      },
      (r) => {
        const n = r.selected.length;
        const ok = r.selectedScores === null || (r.selectedScores !== undefined && r.selectedScores.length === n);
        return ok ? undefined : { path: ['selectedScores'], value: r.selectedScores, allowed: `null or an array of ${n} scores, one per selected index` };
      },
    ),
    // The engine's field order.
    v.transform((r): RoundRecord => ({
      round: r.round, labeled: r.labeled as number, accuracy: r.accuracy, loss: r.loss, ece: r.ece, calibration: r.calibration ?? null,
      classCounts: r.classCounts as number[], selected: r.selected, selectedScores: r.selectedScores ?? null,
      ...(r.labels === undefined ? {} : { labels: r.labels }), ...(r.agreed === undefined ? {} : { agreed: r.agreed }),
      ...(r.added === undefined ? {} : { added: r.added }),
      ...(r.stopping === undefined ? {} : { stopping: { kappa: r.stopping.kappa, overallUncertainty: r.stopping.overallUncertainty, maxConfidence: r.stopping.maxConfidence } }),
      ms: r.ms,
    })),
  );
}

/** A run's rounds: round 0 (the initial set) to at most `rounds`, each checked after the ones before it. */
export function roundsSchema(ctx: RecordContext) {
  const max = ctx.config.rounds + 1;
  return sequence<RoundRecord, RoundsSoFar>(
    max,
    `rounds (rounds + 1 = ${max})`,
    () => ({ index: 0, labeled: 0, seen: new Set(), added: 0 }),
    (before) => roundSchema(ctx, before),
    (state, round) => {
      state.labeled = round.labeled;
      state.added += round.added?.length ?? 0;
      for (const i of round.selected) state.seen.add(i);
    },
  );
}

/** Which run of the configuration: a listed strategy, a repeat in range, and a status from `statuses`. */
export function runInfoEntries<S extends string>({ config }: RecordContext, statuses: readonly S[]) {
  return {
    strategy: oneOf<string>(config.strategies),
    repeat: int(0, config.repeats - 1),
    status: oneOf(statuses),
    error: v.optional(str(MAX_STRING)),
    /** Who labeled its queries; absent in files written before it was recorded (the simulated oracle). */
    oracle: v.optional(oneOf(ORACLE_KINDS)),
    /** Set when config.stopWhen ended the run. */
    stopped: v.optional(v.pipe(
      obj({ criterion: oneOf(STOP_CRITERIA), round: int(0, config.rounds) }),
      v.transform((s) => ({ criterion: s.criterion, round: s.round })),
    )),
  };
}

/** At most one record per (strategy, repeat). */
function eachRunOnce(runs: readonly { strategy: string; repeat: number }[]) {
  const seen = new Set<string>();
  for (const [i, r] of runs.entries()) {
    const key = `${r.strategy}#${r.repeat}`;
    if (seen.has(key)) return { path: [i, 'repeat'], value: r.repeat, allowed: `a repeat of ${r.strategy} not listed before` };
    seen.add(key);
  }
  return undefined;
}

/** A list of runs (each checked by `run`): at most strategies x repeats, each (strategy, repeat) once. */
export function runList<S extends v.GenericSchema<unknown, { strategy: string; repeat: number }>>({ config }: RecordContext, run: S) {
  const maxRuns = config.strategies.length * config.repeats;
  return v.pipe(list(run, maxRuns, `runs (strategies x repeats = ${maxRuns})`), relations<v.InferOutput<S>[]>(eachRunOnce));
}

function runsSchema(ctx: RecordContext) {
  const run = v.pipe(
    obj({ ...runInfoEntries(ctx, RUN_STATUSES), rounds: roundsSchema(ctx) }),
    v.transform((r): RunRecord => ({
      strategy: r.strategy, repeat: r.repeat, status: r.status, ...(r.error === undefined ? {} : { error: r.error }),
      ...(r.oracle === undefined ? {} : { oracle: r.oracle }), ...(r.stopped === undefined ? {} : { stopped: r.stopped }), rounds: r.rounds,
    })),
  );
  return runList(ctx, run);
}

/**
 * The longest run of leading rounds of `records` that passes the checks (e.g. rounds read back
 * from storage, cut at the first gap or bad one): they are what a resume may continue from.
 */
export function validRounds(ctx: RecordContext, records: readonly unknown[]): RoundRecord[] {
  const schema = roundsSchema(ctx);
  let upto = Math.min(records.length, ctx.config.rounds + 1);
  for (;;) {
    const r = v.safeParse(schema, records.slice(0, upto), { abortEarly: true });
    if (r.success) return r.output;
    // Round `at` is the first bad one: the rounds before it passed (each is checked after those before it only).
    const at = r.issues[0].path?.[0]?.key;
    upto = typeof at === 'number' && at < upto ? at : 0;
  }
}

/**
 * The shape of a file's `summary`. It is checked, as part of the format, and then dropped: the
 * results carry a summary recomputed from their runs, never the file's.
 */
function summaryShape({ config, dataset }: RecordContext) {
  const train = dataset.sizes.train;
  const n = config.strategies.length;
  const item = v.pipe(
    obj({
      strategy: oneOf<string>(config.strategies),
      repeats: int(1, config.repeats),
      finalAccuracy: measured(dataset, obj({ mean: num(0, 1), std: num(0, 1) })),
      alc: measured(dataset, num(0, 1)),
      labelsToTarget: obj({
        target: num(Number.MIN_VALUE, 1, 'a number in (0, 1]'),
        mean: v.custom<number | null>((x) => x === null || (typeof x === 'number' && Number.isFinite(x) && x >= 1 && x <= train), `null or a label count from 1 to ${train}`),
        reached: int(0, config.repeats),
        perRepeat: list(
          v.custom<number | null>((x) => x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= train), `an integer from 1 to ${train}`),
          config.repeats,
          `label counts or nulls, one per repeat (${config.repeats})`,
        ),
      }),
    }),
    relations(
      (s) => s.labelsToTarget.perRepeat.length === s.repeats ? undefined
        : { path: ['labelsToTarget', 'perRepeat'], value: s.labelsToTarget.perRepeat, allowed: `an array of ${s.repeats} label counts or nulls, one per repeat` },
      (s) => s.labelsToTarget.reached <= s.repeats ? undefined
        : { path: ['labelsToTarget', 'reached'], value: s.labelsToTarget.reached, allowed: `an integer from 0 to ${s.repeats}` },
    ),
  );
  return v.pipe(
    list(item, n, `strategy summaries (${n} strategies)`),
    relations((all) => {
      const i = all.findIndex((s, j) => all.findIndex((t) => t.strategy === s.strategy) !== j);
      return i < 0 ? undefined : { path: [i, 'strategy'], value: all[i]!.strategy, allowed: 'a strategy not summarised before' };
    }),
  );
}

/** One (strategy, repeat) cell of the configuration. */
function cellSchema({ config }: RecordContext) {
  return v.pipe(
    obj({ strategy: oneOf<string>(config.strategies), repeat: int(0, config.repeats - 1) }),
    v.transform((c): CellRef => ({ strategy: c.strategy, repeat: c.repeat })),
  );
}

/**
 * The fields a sweep of the CLI adds (`--shard`, `npm run merge`, `--jobs`): which shard of the
 * cells a file holds, the cells a merge lacks, and the processes that ran the cells.
 */
function sweepShapes(ctx: RecordContext) {
  const maxRuns = ctx.config.strategies.length * ctx.config.repeats;
  const cell = cellSchema(ctx);
  const shard = v.pipe(
    obj({ count: int(1, maxRuns), index: int(0, maxRuns - 1) }),
    relations((s) => (s.index < s.count ? undefined : { path: ['index'], value: s.index, allowed: `an integer from 0 to ${s.count - 1}` })),
    v.transform((s) => ({ index: s.index, count: s.count })),
  );
  const worker = v.pipe(
    obj({
      worker: int(1, COUNT),
      pid: int(0, COUNT),
      shard: v.optional(int(0, maxRuns - 1)),
      cells: list(cell, maxRuns, 'cells'),
      peakRssBytes: num(0, Infinity, BYTES),
      peakTensorBytes: num(0, Infinity, BYTES),
      peakTensors: int(0, COUNT),
      exit: v.optional(v.nullable(str(200)), null),
    }),
    v.transform((w): WorkerReport => ({
      worker: w.worker, pid: w.pid, ...(w.shard === undefined ? {} : { shard: w.shard }), cells: w.cells,
      peakRssBytes: w.peakRssBytes, peakTensorBytes: w.peakTensorBytes, peakTensors: w.peakTensors, exit: w.exit,
    })),
  );
  return {
    shard: v.optional(shard),
    absent: v.optional(list(cell, maxRuns, 'cells')),
    workers: v.optional(list(worker, 10_000, 'worker reports')),
  };
}

/** What the checks of runs and rounds depend on, as a key (checks built for one configuration serve every configuration with the same key). */
const contextKey = ({ config, dataset }: RecordContext) =>
  JSON.stringify([dataset.name, dataset.kind, dataset.shape, dataset.sizes, dataset.numClasses, config.strategies, config.repeats, config.rounds, config.initial, config.query]);

/** The last few built values of `build`, by key: building schemas costs more than most checks. */
function cached<K, T>(build: (key: K) => T, size = 8): (key: K, id: string) => T {
  const built = new Map<string, T>();
  return (key, id) => {
    let value = built.get(id);
    if (value === undefined) {
      value = build(key);
      if (built.size >= size) built.delete(built.keys().next().value!);
    } else built.delete(id);
    built.set(id, value);
    return value;
  };
}

/** A whole results object (the version-1 format), checked; its summary recomputed from its runs. */
export function resultsSchema(datasets: DatasetCatalog = BUILTIN_DATASETS) {
  const parts = cached((ctx: RecordContext) => ({ runs: runsSchema(ctx), summary: summaryShape(ctx), ...sweepShapes(ctx) }));
  return v.pipe(
    obj({
      version: v.custom<1>((x) => x === 1, '1 (the only results format so far)'),
      config: configSchema(datasets),
      environment: obj({
        backend: str(100), renderer: v.optional(v.nullable(str(MAX_STRING)), null), userAgent: v.optional(v.nullable(str(MAX_STRING)), null),
        backendChoice: v.optional(backendChoiceSchema),
      }),
      status: oneOf(RESULT_STATUSES),
      startedAt: v.pipe(str(100), v.check((t) => !Number.isNaN(Date.parse(t)), 'a date and time (ISO 8601)')),
      elapsedMs: num(0, Infinity, MS),
      // Checked against the configuration below.
      runs: v.optional(v.unknown()),
      summary: v.optional(v.unknown()),
      memory: v.optional(obj({ peakBytes: num(0, Infinity, BYTES), peakTensors: int(0, COUNT) })),
      // Checked against the configuration below (sweepShapes).
      shard: v.optional(v.unknown()),
      absent: v.optional(v.unknown()),
      workers: v.optional(v.unknown()),
      dataset: v.optional(userDatasetRecordSchema),
    }),
    v.rawTransform(({ dataset, addIssue, NEVER }): ExperimentResults => {
      const o = dataset.value;
      const { backendChoice, ...env } = o.environment;
      const environment: ExperimentResults['environment'] = backendChoice === undefined ? env : { ...env, backendChoice };
      if (o.dataset !== undefined && (o.dataset.name !== o.config.dataset || datasets.get(o.dataset.name)?.hash !== o.dataset.hash)) {
        addIssue({ message: `the record of the dataset config.dataset names ('${o.config.dataset}')`, input: o.dataset.name, path: [pathItem(o, 'dataset'), pathItem(o.dataset, 'name')] });
        return NEVER;
      }
      const ctx = recordContext(o.config, datasets);
      const schema = parts(ctx, contextKey(ctx));
      const runs = nestedInto(schema.runs, o, 'runs', addIssue);
      if (!runs.ok || !nestedInto(schema.summary, o, 'summary', addIssue).ok) return NEVER;
      const shard = nestedInto(schema.shard, o, 'shard', addIssue);
      if (!shard.ok) return NEVER;
      const absent = nestedInto(schema.absent, o, 'absent', addIssue);
      if (!absent.ok) return NEVER;
      const workers = nestedInto(schema.workers, o, 'workers', addIssue);
      if (!workers.ok) return NEVER;
      return {
        version: 1, config: o.config, environment, status: o.status, startedAt: o.startedAt, elapsedMs: o.elapsedMs,
        runs: runs.value, summary: summarize(runs.value, o.config.target), ...(o.memory === undefined ? {} : { memory: o.memory }),
        ...(shard.value === undefined ? {} : { shard: shard.value }),
        ...(absent.value === undefined ? {} : { absent: absent.value }),
        ...(workers.value === undefined ? {} : { workers: workers.value }),
        ...(o.dataset === undefined ? {} : { dataset: o.dataset }),
      };
    }),
  );
}
