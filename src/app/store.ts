/**
 * The page's record of its experiments in IndexedDB: every completed round is written as it
 * arrives, so a reload, a closed tab or a crashed browser loses at most the round in progress,
 * and the page can offer to resume. Plain data only (structured clones of the round events).
 *
 * Storage can be missing or refuse writes (private windows, quota, a blocked upgrade): every
 * method then rejects with a `StoreError` saying why, and the caller runs on without saving.
 */
import type { ExperimentConfig } from '../engine/config.ts';
import type { RunStatus } from '../engine/results.ts';
import type { DatasetInfo } from './protocol.ts';
import type { RoundData } from './state.ts';

const DB_NAME = 'activelab';
const DB_VERSION = 1;
const EXPERIMENTS = 'experiments';
const ROUNDS = 'rounds';
/** Experiments kept; older ones are deleted when a new one starts. */
export const KEEP_EXPERIMENTS = 5;

export type StoredStatus = 'running' | 'complete' | 'aborted' | 'failed';

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

/** Checks the shape of what was read back: storage is outside our control (other versions, edits). */
function isStoredExperiment(v: unknown): v is StoredExperiment {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.id === 'string' && typeof e.config === 'object' && e.config !== null && typeof e.startedAt === 'string' &&
    typeof e.status === 'string' && Number.isInteger(e.total) && Number.isInteger(e.done) && Array.isArray(e.runs) &&
    e.runs.every((r: unknown) => typeof r === 'object' && r !== null && typeof (r as StoredRunInfo).strategy === 'string' && Number.isInteger((r as StoredRunInfo).repeat))
  );
}

function isStoredRound(v: unknown): v is StoredRound {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const data = r.data as Record<string, unknown> | undefined;
  const record = data?.record as Record<string, unknown> | undefined;
  return (
    typeof r.strategy === 'string' && Number.isInteger(r.repeat) && Number.isInteger(r.round) && !!record &&
    record.round === r.round && Number.isFinite(record.accuracy) && Array.isArray(record.selected) && Array.isArray(data?.confusion)
  );
}

export class ExperimentStore {
  private db: Promise<IDBDatabase> | null = null;

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
    if (isStoredExperiment(cur)) os.put({ ...cur, ...patch, id, updatedAt: new Date().toISOString() });
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
    if (isStoredExperiment(cur)) os.put({ ...cur, ...progress, id, updatedAt: new Date().toISOString() });
    await done(tx);
  }

  /** All experiments, newest first (records that do not look like ours are skipped). */
  async list(): Promise<StoredExperiment[]> {
    const db = await this.open();
    const all: unknown[] = await request(db.transaction(EXPERIMENTS, 'readonly').objectStore(EXPERIMENTS).getAll());
    return all.filter(isStoredExperiment).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** The newest experiment that did not finish and has at least one completed round. */
  async latestUnfinished(): Promise<StoredExperiment | null> {
    const list = await this.list();
    const last = list[0];
    return last && last.status !== 'complete' && last.done > 0 && last.done < last.total ? last : null;
  }

  /** An experiment's runs with their completed rounds, in round order. */
  async load(id: string): Promise<LoadedRun[]> {
    const db = await this.open();
    const tx = db.transaction([EXPERIMENTS, ROUNDS], 'readonly');
    const exp: unknown = await request(tx.objectStore(EXPERIMENTS).get(id));
    if (!isStoredExperiment(exp)) throw new StoreError(`no stored experiment ${id}`);
    const range = IDBKeyRange.bound([id], [id, []]);
    const rows: unknown[] = await request(tx.objectStore(ROUNDS).getAll(range));
    const runs = new Map<string, LoadedRun>();
    for (const info of exp.runs) runs.set(`${info.strategy}#${info.repeat}`, { ...info, rounds: [] });
    for (const row of rows) {
      if (!isStoredRound(row)) continue;
      const k = `${row.strategy}#${row.repeat}`;
      const run = runs.get(k) ?? { strategy: row.strategy, repeat: row.repeat, status: 'aborted' as const, rounds: [] };
      run.rounds.push(row.data);
      runs.set(k, run);
    }
    const out = [...runs.values()];
    for (const r of out) {
      r.rounds.sort((a, b) => a.record.round - b.record.round);
      // Keep rounds 0..k without gaps: a resume continues from the last of an unbroken sequence.
      const cut = r.rounds.findIndex((d, i) => d.record.round !== i);
      if (cut >= 0) r.rounds = r.rounds.slice(0, cut);
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction([EXPERIMENTS, ROUNDS], 'readwrite');
    tx.objectStore(EXPERIMENTS).delete(id);
    tx.objectStore(ROUNDS).delete(IDBKeyRange.bound([id], [id, []]));
    await done(tx);
  }

  /** Deletes all but the newest `keep` experiments (never `protect`). */
  async prune(keep: number, protect: string): Promise<void> {
    const list = await this.list();
    for (const e of list.slice(keep)) if (e.id !== protect) await this.remove(e.id);
  }
}
