/**
 * Records the page's current experiment in the browser as it runs (store.ts): writes queued in
 * order, one at a time; a Web Lock held while the run goes on; and the offer of an earlier
 * experiment that stopped before its end. If storage fails, `problem` says so once and later
 * writes are skipped: the run itself goes on.
 */
import type { DatasetCatalog } from '../../datasets/catalog.ts';
import { ExperimentStore, type StoredExperiment } from './store.ts';

/**
 * A running experiment holds a Web Lock named by its id until the run ends, so another tab (or
 * this one after a reload) never offers to resume a run that is still going elsewhere; the
 * browser releases the lock when the tab closes, reloads or crashes.
 */
const lockName = (id: string) => `activelab-run:${id}`;

export class RunRecorder {
  readonly store: ExperimentStore;
  /** The stored experiment being written or shown (null: none). */
  id: string | null = null;
  /** Why completed rounds are not being saved, or null. */
  problem: string | null = null;
  private queue: Promise<void> = Promise.resolve();
  private releaseLock: (() => void) | null = null;

  /**
   * @param onProblem called once when a write fails (the page shows `problem`).
   * @param datasets the page's catalog as it is now (it gains the user's own data).
   */
  constructor(private readonly onProblem: () => void, datasets?: () => DatasetCatalog) {
    this.store = new ExperimentStore(datasets);
  }

  /** Starts recording a new experiment. */
  begin(exp: Omit<StoredExperiment, 'id' | 'startedAt' | 'updatedAt'>): void {
    this.problem = null;
    this.id = crypto.randomUUID(); // a record key, not experiment randomness
    this.hold(this.id);
    const now = new Date().toISOString();
    const record: StoredExperiment = { ...exp, id: this.id, startedAt: now, updatedAt: now };
    this.write((store) => store.begin(record));
  }

  /** Records into a stored experiment being continued. */
  continueWith(id: string, patch: Partial<Omit<StoredExperiment, 'id'>>): void {
    this.id = id;
    this.hold(id);
    this.update(patch);
  }

  /** Points at a stored experiment shown without running (no lock, nothing written). */
  show(id: string): void {
    this.id = id;
  }

  update(patch: Partial<Omit<StoredExperiment, 'id'>>): void {
    this.write((store, id) => store.update(id, patch));
  }

  /** Queues a write to the current experiment (skipped when there is none or storage failed). */
  write(what: (store: ExperimentStore, id: string) => Promise<void>): void {
    const id = this.id;
    if (!id || this.problem) return;
    this.queue = this.queue.then(() => what(this.store, id)).catch((err: unknown) => {
      this.problem = `Completed rounds are not being saved in this browser (${err instanceof Error ? err.message : String(err)}): a reload would lose them.`;
      this.onProblem();
    });
  }

  /** Resolves once every write queued so far is done (or skipped after a storage failure). */
  saved(): Promise<void> {
    return this.queue;
  }

  /** The run ended (finished, stopped, failed or crashed): another tab may now offer it. */
  ended(): void {
    this.releaseLock?.();
    this.releaseLock = null;
  }

  /**
   * The newest experiment that stopped before its end and that no tab is running, once the
   * queued writes are done; null if none, or without storage.
   */
  async unfinished(): Promise<StoredExperiment | null> {
    try {
      await this.queue;
      const latest = await this.store.latestUnfinished();
      return latest && !(await this.lockedElsewhere(latest.id)) ? latest : null;
    } catch {
      return null;
    }
  }

  private hold(id: string): void {
    this.ended();
    if (!navigator.locks) return;
    const held = new Promise<void>((resolve) => (this.releaseLock = resolve));
    void navigator.locks.request(lockName(id), () => held).catch(() => undefined);
  }

  private async lockedElsewhere(id: string): Promise<boolean> {
    if (!navigator.locks) return false;
    const { held = [] } = await navigator.locks.query();
    return held.some((l) => l.name === lockName(id));
  }
}
