/**
 * What the page knows about the current run, built from the host's plain-data events. It keeps
 * every completed round (with the extras the views need), so a stop or a crash of the worker
 * leaves everything on screen and exportable.
 */
import type { BackendChoiceRecord } from '../backend/auto-choice.ts';
import type { BackendInfo } from '../backend/catalog.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import type { Phase } from '../engine/events.ts';
import { summarize, type ExperimentResults, type RoundRecord, type RunRecord, type RunStatus, type StrategySummary } from '../engine/results.ts';
import type { AppEvent, DatasetInfo, Queried } from './protocol.ts';

export interface RoundData {
  record: RoundRecord;
  scores: Float32Array | null;
  confusion: number[];
  grid: { predicted: Uint8Array; confidence: Float32Array } | null;
  queried: Queried;
}

export interface RunData {
  strategy: string;
  repeat: number;
  status: RunStatus | 'running';
  error?: string;
  rounds: RoundData[];
}

export type RunStatusText = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'complete' | 'aborted' | 'failed';

export interface Activity {
  strategy: string;
  repeat: number;
  round: number;
  phase: Phase;
  epoch: number | null;
  epochs: number | null;
  loss: number | null;
}

export class RunState {
  status: RunStatusText = 'idle';
  config: ExperimentConfig | null = null;
  dataset: DatasetInfo | null = null;
  runs: RunData[] = [];
  /** The engine's final results ('end' event); null until then (or after a crash). */
  results: ExperimentResults | null = null;
  startedAt: Date | null = null;
  /** Progress from the last round event. */
  done = 0;
  total = 0;
  /** performance.now() on the page when the run started (for ETA between events). */
  t0 = 0;
  activity: Activity | null = null;
  statusMessage = '';
  warnings: string[] = [];
  /** Informational messages (a run resumed, a backend replaced), shown beside the warnings. */
  notes: string[] = [];
  /** Rounds already done when this session's work started (kept from a resumed run): ETA ignores them. */
  baseDone = 0;
  error: string | null = null;
  tensors: { before: number | null; after: number | null } = { before: null, after: null };
  backend: BackendInfo | null = null;
  /** How 'auto' picked the active backend (null when one was asked for by name). */
  backendChoice: BackendChoiceRecord | null = null;
  /** Longest main-thread task (ms) seen during the run (PerformanceObserver 'longtask'). */
  longestTask = 0;
  /** Where the results on screen come from: a run of this page, or a results file opened. */
  source: 'run' | 'file' = 'run';
  /** The name of the opened file (source 'file'). */
  fileName: string | null = null;

  /**
   * Prepares for a run of `config`. With `keep` (resuming), the completed rounds of the earlier
   * run stay (their in-progress runs wait for the engine to continue them) and the dataset too.
   */
  reset(config: ExperimentConfig | null, keep?: { runs: RunData[]; startedAt: Date | null }): void {
    this.status = 'starting';
    this.config = config;
    if (!keep) this.dataset = null;
    this.runs = keep ? keep.runs.map((r) => ({ ...r, status: r.status === 'complete' || r.status === 'exhausted' ? r.status : 'running', rounds: [...r.rounds] })) : [];
    this.results = null;
    this.startedAt = keep?.startedAt ?? new Date();
    this.done = this.runs.reduce((a, r) => a + r.rounds.length, 0);
    this.baseDone = this.done;
    this.notes = [];
    this.total = config ? config.strategies.length * config.repeats * (config.rounds + 1) : 0;
    this.t0 = performance.now();
    this.activity = null;
    this.statusMessage = 'starting';
    this.warnings = [];
    this.error = null;
    this.tensors = { before: null, after: null };
    this.longestTask = 0;
    this.source = 'run';
    this.fileName = null;
  }

  /**
   * Shows checked results from a file as a finished run: every round, its selected rows' labels
   * and pixels once `setQueried` brings them. What a results file does not keep (every
   * candidate's score, confusion matrices, the decision-boundary grid) stays empty.
   */
  load(results: ExperimentResults, dataset: DatasetInfo, fileName: string): void {
    this.reset(results.config);
    this.status = results.status;
    this.dataset = dataset;
    this.results = results;
    this.startedAt = new Date(results.startedAt);
    this.statusMessage = '';
    this.source = 'file';
    this.fileName = fileName;
    this.runs = results.runs.map((run, i) => ({
      strategy: run.strategy,
      repeat: run.repeat,
      status: run.status,
      ...(run.error ? { error: run.error } : {}),
      rounds: run.rounds.map((record) => ({ record, scores: null, confusion: [], grid: null, queried: { labels: new Uint8Array(0), pixels: null } })),
    }));
    this.done = this.runs.reduce((a, r) => a + r.rounds.length, 0);
  }

  /** The selected rows of loaded results, `queried[run][round]` (runs in the order of the results). */
  setQueried(queried: Queried[][]): void {
    this.runs.forEach((run, i) => run.rounds.forEach((round, j) => {
      const q = queried[i]?.[j];
      if (q) round.queried = q;
    }));
  }

  get running(): boolean {
    return ['starting', 'running', 'pausing', 'paused', 'stopping'].includes(this.status);
  }

  private run(strategy: string, repeat: number): RunData {
    let r = this.runs.find((x) => x.strategy === strategy && x.repeat === repeat);
    if (!r) {
      r = { strategy, repeat, status: 'running', rounds: [] };
      this.runs.push(r);
    }
    return r;
  }

  /** Applies one engine event; returns what changed ('round' re-draws the charts). */
  apply(e: AppEvent): 'start' | 'round' | 'activity' | 'run' | 'end' | 'warning' | 'note' {
    switch (e.type) {
      case 'start':
        this.config = e.config;
        this.total = e.progress.total;
        this.status = this.status === 'starting' ? 'running' : this.status;
        return 'start';
      case 'phase':
        this.activity = { strategy: e.strategy, repeat: e.repeat, round: e.round, phase: e.phase, epoch: null, epochs: null, loss: null };
        this.run(e.strategy, e.repeat);
        return 'activity';
      case 'epoch':
        this.activity = { strategy: e.strategy, repeat: e.repeat, round: e.round, phase: 'train', epoch: e.epoch, epochs: e.epochs, loss: e.loss };
        return 'activity';
      case 'round': {
        const run = this.run(e.strategy, e.repeat);
        run.rounds.push({ record: e.record, scores: e.scores, confusion: e.confusion, grid: e.grid, queried: e.queried });
        this.done = e.progress.done;
        this.total = e.progress.total;
        return 'round';
      }
      case 'warning':
        this.warnings.push(`${e.strategy}, repeat ${e.repeat + 1}, round ${e.round}: ${e.message}`);
        return 'warning';
      case 'resume':
        this.notes.push(`${e.strategy}, repeat ${e.repeat + 1}: ${e.message}`);
        this.activity = { strategy: e.strategy, repeat: e.repeat, round: e.round, phase: 'train', epoch: null, epochs: null, loss: null };
        return 'note';
      case 'run': {
        const run = this.run(e.run.strategy, e.run.repeat);
        run.status = e.run.status;
        if (e.run.error) run.error = e.run.error;
        return 'run';
      }
      case 'end':
        this.results = e.results;
        this.status = e.results.status;
        for (const r of this.runs) if (r.status === 'running') r.status = e.results.status === 'complete' ? 'complete' : 'aborted';
        return 'end';
    }
  }

  /** The runs as the engine's records (completed rounds only). */
  records(): RunRecord[] {
    return this.runs
      .filter((r) => r.rounds.length > 0)
      .map((r) => ({
        strategy: r.strategy,
        repeat: r.repeat,
        status: r.status === 'running' ? 'aborted' : r.status,
        ...(r.error ? { error: r.error } : {}),
        rounds: r.rounds.map((x) => x.record),
      }));
  }

  summary(): StrategySummary[] {
    if (this.results) return this.results.summary;
    return summarize(this.records(), this.config?.target ?? 0.8);
  }

  /** The engine's results, or (after a crash) the same shape rebuilt from the completed rounds. */
  exportable(): ExperimentResults | null {
    if (this.results) return this.results;
    if (!this.config || this.runs.length === 0) return null;
    const runs = this.records();
    return {
      version: 1,
      config: this.config,
      environment: {
        backend: this.backend?.backend ?? 'unknown',
        renderer: this.backend?.renderer ?? null,
        userAgent: typeof navigator !== 'undefined' ? navigator.userAgent : null,
        ...(this.backendChoice ? { backendChoice: this.backendChoice } : {}),
      },
      status: this.status === 'failed' ? 'failed' : 'aborted',
      startedAt: (this.startedAt ?? new Date()).toISOString(),
      elapsedMs: Math.round(performance.now() - this.t0),
      runs,
      summary: summarize(runs, this.config.target),
    };
  }

  /** Rounds completed so far plus a share of the current one (from its phase and epoch). */
  fractionalDone(): number {
    const a = this.activity;
    if (!a || !this.running) return this.done;
    let within = 0;
    if (a.phase === 'train') within = 0.1 + 0.75 * (a.epoch === null || !a.epochs ? 0 : (a.epoch + 1) / a.epochs);
    else if (a.phase === 'evaluate') within = 0.9;
    else within = 0.05;
    return Math.min(this.total, this.done + within);
  }

  /** Estimated milliseconds left, or null before anything can be estimated. */
  eta(): number | null {
    const done = this.fractionalDone();
    const fresh = done - this.baseDone;
    if (fresh <= 0.05 || this.total <= 0) return null;
    const elapsed = performance.now() - this.t0;
    return (elapsed / fresh) * (this.total - done);
  }
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}` : `${mm}:${String(ss).padStart(2, '0')}`;
}
