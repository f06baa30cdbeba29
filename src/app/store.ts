/**
 * The page's record of its experiments in IndexedDB: every completed round is written as it
 * arrives, so a reload, a closed tab or a crashed browser loses at most the round in progress,
 * and the page can offer to resume. Plain data only (structured clones of the round events).
 *
 * Storage can be missing or refuse writes (private windows, quota, a blocked upgrade): every
 * method then rejects with a `StoreError` saying why, and the caller runs on without saving.
 */
import * as v from 'valibot';
import { BUILTIN_DATASETS, DATASET_KINDS, describeDataset, type DatasetCatalog, type DatasetDescription } from '../../datasets/catalog.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import type { RunStatus } from '../engine/results.ts';
import { configSchema, recordContext, RUN_STATUSES, runInfoEntries, runList, validRounds } from '../engine/results-schema.ts';
import { check, int, list, nestedInto, num, obj, oneOf, onePer, str } from '../schema.ts';
import type { DrawnExample, LabelAnswer } from './labeling.ts';
import type { DatasetInfo, UserDataOptions, UserDataSummary } from './protocol.ts';
import type { RoundData } from './state.ts';

const DB_NAME = 'activelab';
/**
 * 2 added the labels a person gives ("Label it yourself"); 3 the digits drawn on the pad and added
 * to the labeled set (`drawn`); 4 the user's own data (`datasets`). Each store is created when
 * missing, so any earlier version upgrades.
 */
const DB_VERSION = 4;
const EXPERIMENTS = 'experiments';
const ROUNDS = 'rounds';
const LABELS = 'labels';
const DRAWN = 'drawn';
const DATASETS = 'datasets';
/** Experiments kept; older ones are deleted when a new one starts. */
export const KEEP_EXPERIMENTS = 5;

export const STORED_STATUSES = ['running', 'complete', 'aborted', 'failed'] as const;
export type StoredStatus = (typeof STORED_STATUSES)[number];
const STORED_RUN_STATUSES: readonly (RunStatus | 'running')[] = [...RUN_STATUSES, 'running'];

export interface StoredRunInfo {
  strategy: string;
  repeat: number;
  status: RunStatus | 'running';
  error?: string;
}

export interface StoredExperiment {
  id: string;
  config: ExperimentConfig;
  dataset: DatasetInfo | null;
  startedAt: string;
  updatedAt: string;
  status: StoredStatus;
  /** Evaluations planned (strategies x repeats x (rounds + 1)) and completed. */
  total: number;
  done: number;
  runs: StoredRunInfo[];
  /** 'human': a labeling run, whose oracle is the person at the page (absent: the simulated oracle). */
  oracle?: 'human';
}

interface StoredRound {
  id: string;
  strategy: string;
  repeat: number;
  round: number;
  data: RoundData;
}

export interface LoadedRun extends StoredRunInfo {
  rounds: RoundData[];
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new StoreError(req.error?.message ?? 'IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(new StoreError(tx.error?.message ?? 'IndexedDB transaction failed'));
    tx.onabort = () => reject(new StoreError(tx.error?.message ?? 'IndexedDB transaction aborted (storage full?)'));
  });
}

// ---------------------------------------------------------------------------------------------
// What is read back is checked: storage is outside our control (other versions, edits). The
// configuration, the runs and their rounds pass the results schema (src/engine/results-schema.ts),
// the same checks as a results file; the store adds its envelope (ids, progress, display data).

const COUNT = Number.MAX_SAFE_INTEGER;
const anyNumber = num(-Infinity, Infinity);

const datasetInfoSchema = obj({
  name: str(100),
  kind: oneOf(DATASET_KINDS),
  shape: list(int(1, 100_000), 3, 'positive integers (the shape of one example)'),
  numClasses: int(2, 256),
  classNames: list(str(100), 256, 'class names'),
  trainSize: int(0, COUNT),
  testSize: int(0, COUNT),
  points: v.nullable(obj({ x: v.instance(Float32Array, 'a Float32Array'), y: v.instance(Uint8Array, 'a Uint8Array') })),
  grid: v.nullable(obj({ size: int(1, 4096), x0: anyNumber, x1: anyNumber, y0: anyNumber, y1: anyNumber })),
});

/** A stored experiment record, its configuration and runs checked as a results file's are. */
export function storedExperimentSchema(datasets: DatasetCatalog = BUILTIN_DATASETS) {
  return v.pipe(
    obj({
      id: str(100),
      config: configSchema(datasets),
      dataset: v.nullable(datasetInfoSchema),
      startedAt: str(100),
      updatedAt: str(100),
      status: oneOf(STORED_STATUSES),
      total: int(0, COUNT),
      done: int(0, COUNT),
      // Checked against the configuration below.
      runs: v.optional(v.unknown()),
      oracle: v.optional(oneOf(['human'] as const)),
    }),
    v.rawTransform(({ dataset, addIssue, NEVER }): StoredExperiment => {
      const ctx = recordContext(dataset.value.config, datasets);
      const runs = nestedInto(runList(ctx, obj(runInfoEntries(ctx, STORED_RUN_STATUSES))), dataset.value, 'runs', addIssue);
      if (!runs.ok) return NEVER;
      const { oracle, ...rest } = dataset.value;
      return { ...rest, ...(oracle ? { oracle } : {}), runs: runs.value.map(({ error, ...r }) => (error === undefined ? r : { ...r, error })) };
    }),
  );
}

/** A stored round: its key, and the display data beside its record (checked with the run, `storedRuns`). */
const storedRoundSchema = obj({
  id: str(100),
  strategy: str(100),
  repeat: int(0, COUNT),
  round: int(0, COUNT),
  data: obj({
    record: v.unknown(),
    scores: v.nullable(v.instance(Float32Array, 'a Float32Array')),
    confusion: v.array(int(0, COUNT)),
    grid: v.nullable(obj({ predicted: v.instance(Uint8Array, 'a Uint8Array'), confidence: v.instance(Float32Array, 'a Float32Array') })),
    queried: obj({ labels: v.instance(Uint8Array, 'a Uint8Array'), pixels: v.nullable(v.instance(Uint8Array, 'a Uint8Array')) }),
  }),
});

/** A stored answer of a labeling run, keyed by experiment, run, round and position in the batch. */
const storedLabelSchema = obj({
  id: str(100),
  strategy: str(100),
  repeat: int(0, COUNT),
  // Round 0 too: on data without labels the person labels the initial set.
  round: int(0, COUNT),
  position: int(0, COUNT),
  row: int(0, COUNT),
  label: int(-1, 255),
  seconds: num(0, Infinity),
  truth: v.nullable(int(0, 255)),
});

/** A stored drawn digit of a labeling run, keyed by experiment, run, round and position among the round's. */
const storedDrawnSchema = obj({
  id: str(100),
  strategy: str(100),
  repeat: int(0, COUNT),
  round: int(1, COUNT),
  position: int(0, COUNT),
  label: int(0, 255),
  pixels: v.pipe(v.instance(Uint8Array, 'a Uint8Array'), v.length(28 * 28, '28x28 = 784 pixels')),
});

/** The rows that pass `schema`, without their experiment key (the others are skipped). */
function checkedRows<T extends { id: string }>(schema: v.GenericSchema<unknown, T>, rows: readonly unknown[], root: string): Omit<T, 'id'>[] {
  return rows.flatMap((raw) => {
    const r = check(schema, raw, root);
    if (!r.ok) return [];
    const { id: _, ...rest } = r.value;
    return [rest];
  });
}

/** The stored drawn digits `rows` that pass the check, without their experiment key (others are skipped). */
export const storedDrawn = (rows: readonly unknown[]): DrawnExample[] => checkedRows(storedDrawnSchema, rows, 'drawn');

/** The stored answers `rows` that pass the check, without their experiment key (others are skipped). */
export const storedLabels = (rows: readonly unknown[]): LabelAnswer[] => checkedRows(storedLabelSchema, rows, 'label');

const experimentSchemaOf = onePer((datasets: DatasetCatalog) => storedExperimentSchema(datasets));

/** The stored experiment `value` as checked, or null for a record that is not (or no longer) valid here. */
export function checkStoredExperiment(value: unknown, datasets: DatasetCatalog = BUILTIN_DATASETS): StoredExperiment | null {
  const r = check(experimentSchemaOf(datasets), value, 'experiment');
  return r.ok ? r.value : null;
}

/**
 * An experiment's runs from its stored round rows: each run's rounds in round order, kept up to
 * the first missing or invalid one (a resume continues from the last of an unbroken, checked
 * sequence). Rows that are not rounds of one of the configuration's runs are skipped.
 */
export function storedRuns(exp: StoredExperiment, rows: readonly unknown[], datasets: DatasetCatalog = BUILTIN_DATASETS): LoadedRun[] {
  const ctx = recordContext(exp.config, datasets);
  const key = (strategy: string, repeat: number) => `${strategy}#${repeat}`;
  const found = new Map<string, { info: StoredRunInfo; rows: { round: number; data: RoundData }[] }>();
  for (const info of exp.runs) found.set(key(info.strategy, info.repeat), { info, rows: [] });
  for (const raw of rows) {
    const r = check(storedRoundSchema, raw, 'round');
    if (!r.ok) continue;
    const { strategy, repeat, round, data } = r.value;
    if (!exp.config.strategies.includes(strategy as ExperimentConfig['strategies'][number]) || repeat >= exp.config.repeats) continue;
    const k = key(strategy, repeat);
    const run = found.get(k) ?? { info: { strategy, repeat, status: 'aborted' as const }, rows: [] };
    run.rows.push({ round, data: data as RoundData });
    found.set(k, run);
  }
  return [...found.values()].map(({ info, rows: rs }) => {
    rs.sort((a, b) => a.round - b.round);
    const records = validRounds(ctx, rs.map((r) => r.data.record));
    return { ...info, rounds: records.map((record, i) => ({ ...rs[i]!.data, record })) };
  });
}

/**
 * The user's own data as the page keeps it: the files themselves (decoded again in the host after
 * a reload; the content hash says it is the same data) and what the page showed of them.
 */
export interface StoredUserData {
  name: string;
  hash: string;
  /** The folder or table name the files' paths start with (`DataOptions.data`). */
  data: string;
  options: UserDataOptions;
  files: { path: string; file: Blob }[];
  summary: UserDataSummary;
  storedAt: string;
}

const storedUserDataSchema = obj({
  name: str(64),
  hash: str(128),
  data: str(4096),
  options: obj({
    testFraction: v.optional(num(0, 1)),
    labelColumn: v.optional(v.nullable(str(1000))),
    imageSize: v.optional(v.tuple([int(1, 4096), int(1, 4096), v.picklist([1, 3] as const)])),
    classes: v.optional(v.nullable(v.array(str(100)))),
    test: v.optional(v.nullable(str(4096))),
  }),
  files: v.array(obj({ path: str(4096), file: v.instance(Blob, 'a Blob') })),
  summary: obj({
    description: v.unknown(),
    classCounts: v.array(int(0, COUNT)),
    samples: v.nullable(obj({ labels: v.instance(Uint8Array, 'a Uint8Array'), pixels: v.instance(Uint8Array, 'a Uint8Array') })),
    featureNames: v.nullable(v.array(str(1000))),
    warnings: v.array(str(10_000)),
  }),
  storedAt: str(100),
});

/** A stored user dataset as checked, with its catalog entry; null for a record that is not valid here. */
export function checkStoredUserData(value: unknown): { stored: StoredUserData; description: DatasetDescription } | null {
  const r = check(storedUserDataSchema, value, 'dataset');
  if (!r.ok) return null;
  try {
    const description = describeDataset(r.value.summary.description);
    if (description.name !== r.value.name || description.hash !== r.value.hash) return null;
    return { stored: r.value as StoredUserData, description };
  } catch {
    return null;
  }
}

export class ExperimentStore {
  private db: Promise<IDBDatabase> | null = null;
  private readonly catalogOf: () => DatasetCatalog;

  /** @param datasets the datasets a stored configuration may name (a function: the page's catalog grows) */
  constructor(datasets: DatasetCatalog | (() => DatasetCatalog) = BUILTIN_DATASETS) {
    this.catalogOf = typeof datasets === 'function' ? datasets : () => datasets;
  }

  private get datasets(): DatasetCatalog {
    return this.catalogOf();
  }

  /** Keeps the user's own data (replacing data of the same name). */
  async putUserData(d: StoredUserData): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(DATASETS, 'readwrite');
    tx.objectStore(DATASETS).put(d);
    await done(tx);
  }

  /** The user datasets kept, by name (records that are not valid here are skipped). */
  async userData(): Promise<{ stored: StoredUserData; description: DatasetDescription }[]> {
    const db = await this.open();
    const all: unknown[] = await request(db.transaction(DATASETS, 'readonly').objectStore(DATASETS).getAll());
    return all.flatMap((x) => checkStoredUserData(x) ?? []).sort((a, b) => a.stored.name.localeCompare(b.stored.name));
  }

  async removeUserData(name: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(DATASETS, 'readwrite');
    tx.objectStore(DATASETS).delete(name);
    await done(tx);
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (typeof indexedDB === 'undefined') {
        reject(new StoreError('this browser has no IndexedDB'));
        return;
      }
      let req: IDBOpenDBRequest;
      try {
        req = indexedDB.open(DB_NAME, DB_VERSION);
      } catch (err) {
        reject(new StoreError(err instanceof Error ? err.message : String(err)));
        return;
      }
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(EXPERIMENTS)) db.createObjectStore(EXPERIMENTS, { keyPath: 'id' });
        if (!db.objectStoreNames.contains(ROUNDS)) db.createObjectStore(ROUNDS, { keyPath: ['id', 'strategy', 'repeat', 'round'] });
        if (!db.objectStoreNames.contains(LABELS)) db.createObjectStore(LABELS, { keyPath: ['id', 'strategy', 'repeat', 'round', 'position'] });
        if (!db.objectStoreNames.contains(DRAWN)) db.createObjectStore(DRAWN, { keyPath: ['id', 'strategy', 'repeat', 'round', 'position'] });
        if (!db.objectStoreNames.contains(DATASETS)) db.createObjectStore(DATASETS, { keyPath: 'name' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new StoreError(req.error?.message ?? 'IndexedDB could not open'));
      req.onblocked = () => reject(new StoreError('IndexedDB is blocked by another ActiveLab tab with an older version'));
    });
    this.db.catch(() => (this.db = null));
    return this.db;
  }

  /** Records a new experiment (or replaces the record of one being resumed); prunes old ones. */
  async begin(exp: StoredExperiment): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(EXPERIMENTS, 'readwrite');
    tx.objectStore(EXPERIMENTS).put(exp);
    await done(tx);
    await this.prune(KEEP_EXPERIMENTS, exp.id);
  }

  /** Updates an experiment's record (status, run statuses, progress). */
  async update(id: string, patch: Partial<Omit<StoredExperiment, 'id'>>): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(EXPERIMENTS, 'readwrite');
    const os = tx.objectStore(EXPERIMENTS);
    const cur: unknown = await request(os.get(id));
    const exp = checkStoredExperiment(cur, this.datasets);
    if (exp) os.put({ ...exp, ...patch, id, updatedAt: new Date().toISOString() });
    await done(tx);
  }

  /** Writes one completed round, and the experiment's progress, in one transaction. */
  async addRound(id: string, strategy: string, repeat: number, data: RoundData, progress: Partial<StoredExperiment>): Promise<void> {
    const db = await this.open();
    const tx = db.transaction([ROUNDS, EXPERIMENTS], 'readwrite');
    const row: StoredRound = { id, strategy, repeat, round: data.record.round, data };
    tx.objectStore(ROUNDS).put(row);
    const os = tx.objectStore(EXPERIMENTS);
    const cur: unknown = await request(os.get(id));
    const exp = checkStoredExperiment(cur, this.datasets);
    if (exp) os.put({ ...exp, ...progress, id, updatedAt: new Date().toISOString() });
    await done(tx);
  }

  /** All experiments, newest first (records that are not valid here are skipped). */
  async list(): Promise<StoredExperiment[]> {
    const db = await this.open();
    const all: unknown[] = await request(db.transaction(EXPERIMENTS, 'readonly').objectStore(EXPERIMENTS).getAll());
    return all.flatMap((x) => checkStoredExperiment(x, this.datasets) ?? []).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** The newest experiment that did not finish and has at least one completed round. */
  async latestUnfinished(): Promise<StoredExperiment | null> {
    const list = await this.list();
    const last = list[0];
    return last && last.status !== 'complete' && last.done > 0 && last.done < last.total ? last : null;
  }

  /** An experiment's runs with their completed rounds, in round order (see `storedRuns`). */
  async load(id: string): Promise<LoadedRun[]> {
    const db = await this.open();
    const tx = db.transaction([EXPERIMENTS, ROUNDS], 'readonly');
    const exp = checkStoredExperiment(await request(tx.objectStore(EXPERIMENTS).get(id)), this.datasets);
    if (!exp) throw new StoreError(`no stored experiment ${id}`);
    const range = IDBKeyRange.bound([id], [id, []]);
    const rows: unknown[] = await request(tx.objectStore(ROUNDS).getAll(range));
    return storedRuns(exp, rows, this.datasets);
  }

  /** Saves one answer of a labeling run (replacing an earlier answer at the same place). */
  async putLabel(id: string, answer: LabelAnswer): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(LABELS, 'readwrite');
    tx.objectStore(LABELS).put({ id, ...answer });
    await done(tx);
  }

  /** Deletes an answer taken back (undo). */
  async deleteLabel(id: string, a: Pick<LabelAnswer, 'strategy' | 'repeat' | 'round' | 'position'>): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(LABELS, 'readwrite');
    tx.objectStore(LABELS).delete([id, a.strategy, a.repeat, a.round, a.position]);
    await done(tx);
  }

  /** Every answer saved for an experiment (checked; see `storedLabels`). */
  async labels(id: string): Promise<LabelAnswer[]> {
    const db = await this.open();
    const rows: unknown[] = await request(db.transaction(LABELS, 'readonly').objectStore(LABELS).getAll(IDBKeyRange.bound([id], [id, []])));
    return storedLabels(rows);
  }

  /** Saves a digit drawn and added to the labeled set, the moment it is added. */
  async putDrawn(id: string, drawn: DrawnExample): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(DRAWN, 'readwrite');
    tx.objectStore(DRAWN).put({ id, ...drawn });
    await done(tx);
  }

  /** Every drawn digit saved for an experiment (checked; see `storedDrawn`). */
  async drawn(id: string): Promise<DrawnExample[]> {
    const db = await this.open();
    const rows: unknown[] = await request(db.transaction(DRAWN, 'readonly').objectStore(DRAWN).getAll(IDBKeyRange.bound([id], [id, []])));
    return storedDrawn(rows);
  }

  async remove(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction([EXPERIMENTS, ROUNDS, LABELS, DRAWN], 'readwrite');
    tx.objectStore(EXPERIMENTS).delete(id);
    tx.objectStore(ROUNDS).delete(IDBKeyRange.bound([id], [id, []]));
    tx.objectStore(LABELS).delete(IDBKeyRange.bound([id], [id, []]));
    tx.objectStore(DRAWN).delete(IDBKeyRange.bound([id], [id, []]));
    await done(tx);
  }

  /** Deletes all but the newest `keep` experiments (never `protect`). */
  async prune(keep: number, protect: string): Promise<void> {
    const list = await this.list();
    for (const e of list.slice(keep)) if (e.id !== protect) await this.remove(e.id);
  }
}
