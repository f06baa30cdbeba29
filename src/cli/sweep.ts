/**
 * A sweep: the (strategy, repeat) cells of a configuration run by N workers, each taking the next
 * cell when it is done with one. `--jobs 1` runs them in this process; `--jobs N` forks N worker
 * processes (`sweep-worker.ts`), which is what uses more than one core: tfjs-wasm in Node runs on
 * one thread. Processes rather than worker_threads: both give the same bits and the same speed
 * here (measured, see the README), but a process can be killed or crash (an out-of-memory kill,
 * a wasm abort) without taking the other workers with it, and its peak memory (maxRSS) is its own.
 *
 * Each cell's randomness derives from the seed by name, so the runs are those of `--jobs 1`
 * whatever worker ran them. A completed round is handed to `hooks.round` (the journal) and the
 * worker waits for it before the next round. `stop()` stops every worker after its current step;
 * `kill()` kills the worker processes at once. A worker that dies fails its cell, which keeps the
 * rounds it completed and its error; a new worker takes the remaining cells.
 *
 * With `models` (`--save-models DIR`), every worker writes the final model of each run it
 * finishes into that run's own `DIR/<strategy>-r<repeat>` folder, and reports what it wrote (or
 * could not write) with the cell's end; worker processes write through node's file system.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../../datasets/types.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import { finishedRun } from '../engine/restore.ts';
import type { ExperimentResults, RoundRecord, RunRecord, WorkerReport } from '../engine/results.ts';
import { CellRunner, type CellHooks, type Environment, type MemoryReport, type ModelsReport, type ModelsTarget } from './cell-runner.ts';
import { cellKey, cellName, type Cell } from './shard.ts';
import { nodeBackend } from '../backend/auto-choice.ts';

export type CellEvent = Parameters<CellHooks['event']>[0];

/** Messages to a worker process. */
export type ToWorker =
  | { type: 'init'; config: ExperimentConfig; models: string | null; dataset: Dataset<string> | null }
  | { type: 'run'; cell: Cell; prior: RunRecord | null }
  | { type: 'ack' }
  | { type: 'stop' };

/** Messages from a worker process. */
export type FromWorker =
  | { type: 'ready'; environment: Environment; memory: MemoryReport }
  | { type: 'init-error'; message: string }
  | { type: 'round'; record: RoundRecord; memory: MemoryReport }
  | { type: 'event'; event: CellEvent }
  | { type: 'done'; run: RunRecord; memory: MemoryReport; models: ModelsReport };

export interface SweepHooks {
  /** A worker took a cell. */
  cellStarted?(worker: WorkerReport, cell: Cell): void;
  /**
   * A round of `cell` completed. It should be durable when this returns (the journal): the worker
   * waits for it before the next round starts. Must not throw.
   */
  round(worker: WorkerReport, cell: Cell, record: RoundRecord): void;
  event?(worker: WorkerReport, cell: Cell, event: CellEvent): void;
  /** A cell ended: complete, exhausted, aborted (stopped) or failed (its error says why). */
  cellEnded?(worker: WorkerReport, run: RunRecord): void;
  /** A line a worker process wrote to stderr. */
  log?(worker: WorkerReport, line: string): void;
}

export interface SweepOptions {
  config: ExperimentConfig;
  /** The cells of this sweep in their fixed order (a shard's, or all). */
  cells: readonly Cell[];
  /** Earlier runs by `cellKey` (from `--resume`): finished ones are kept, others continue. */
  prior?: ReadonlyMap<string, RunRecord>;
  /**
   * Workers, at most one per cell to run: where that makes one, the cells run in this process;
   * otherwise that many worker processes are forked.
   */
  jobs: number;
  hooks: SweepHooks;
  /** `--save-models`: where each finished run's final model is written (`fs` used in this process only). */
  models?: ModelsTarget | null;
  /** The user's own data (`--data`), sent to each worker; null: each loads the built-in dataset of the config. */
  dataset?: Dataset<string> | null;
}

export interface SweepOutcome {
  /** Every cell that has a run (kept, finished, stopped or failed), in cell order; cells never started are left out. */
  runs: RunRecord[];
  workers: WorkerReport[];
  environment: ExperimentResults['environment'];
  /** Set when the workers could not start (e.g. the dataset failed to load): the sweep stopped. */
  fatal: string | null;
  /** With `models`: the final models the workers wrote, and those they could not write. */
  models: ModelsReport;
}

/** Whether a prior run is finished (kept as it is), by the loop's own rule. */
function finished(run: RunRecord | undefined, config: ExperimentConfig): run is RunRecord {
  return !!run && finishedRun(run, config) !== null;
}

interface Host {
  readonly report: WorkerReport;
  readonly ready: Promise<Environment>;
  dead: boolean;
  run(cell: Cell, prior: RunRecord | null): Promise<RunRecord>;
  stop(): void;
  kill(): void;
  close(): Promise<void>;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./sweep-worker.ts', import.meta.url));

export class Sweep {
  private readonly prior: ReadonlyMap<string, RunRecord>;
  private readonly done = new Map<string, RunRecord>();
  /** Cells running now, with the rounds they have so far (earlier ones included). */
  private readonly running = new Map<string, RunRecord>();
  private readonly hosts: Host[] = [];
  private nextWorker = 1;
  private stopping = false;
  private killing = false;
  private environment: Environment | null = null;
  private runner: CellRunner | null = null;
  private readonly models: ModelsReport = { written: [], failures: [] };

  constructor(private readonly opts: SweepOptions) {
    if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new RangeError(`jobs must be a whole number of at least 1, got ${opts.jobs}`);
    this.prior = opts.prior ?? new Map();
  }

  /** The cells that will run (not finished before). */
  get toRun(): Cell[] {
    return this.opts.cells.filter((c) => !finished(this.prior.get(cellKey(c)), this.opts.config));
  }

  /** How many workers run the cells: `jobs`, at most one per cell to run. */
  get workerCount(): number {
    return Math.min(this.opts.jobs, this.toRun.length);
  }

  /** Whether the cells run in this process (one worker) rather than in worker processes. */
  get inProcess(): boolean {
    return this.workerCount <= 1;
  }

  /**
   * With one worker, sets up the backend and dataset in this process, rejecting with their own
   * error (a backend that cannot start, a missing data file). Worker processes report theirs as
   * `SweepOutcome.fatal`.
   */
  async prepare(): Promise<void> {
    if (this.inProcess && this.toRun.length > 0) this.runner ??= await CellRunner.open(this.opts.config, this.opts.models ?? null, this.opts.dataset ?? null);
  }

  /** Runs the cells and resolves when every worker is done (or stopped). */
  async start(): Promise<SweepOutcome> {
    const queue = this.toRun;
    let fatal: string | null = null;
    const slot = async () => {
      let host: Host | null = null;
      while (queue.length > 0 && !this.stopping && fatal === null) {
        if (host?.dead) host = null;
        if (!host) {
          host = this.spawn();
          try {
            const env = await host.ready;
            this.environment ??= env;
          } catch (err) {
            // Killed on purpose (a second signal) is no failure to start.
            if (!this.killing) fatal ??= err instanceof Error ? err.message : String(err);
            this.stop();
            break;
          }
        }
        // While this worker started, the others may have taken the remaining cells.
        const cell = queue.shift();
        if (!cell || this.stopping) break;
        this.opts.hooks.cellStarted?.(host.report, cell);
        host.report.cells.push({ ...cell });
        const run = await host.run(cell, this.prior.get(cellKey(cell)) ?? null);
        this.running.delete(cellKey(cell));
        this.done.set(cellKey(cell), run);
        this.opts.hooks.cellEnded?.(host.report, run);
        if (host.dead) host = null;
      }
      if (host && !host.dead) await host.close();
    };
    await Promise.all(Array.from({ length: this.workerCount }, slot));
    const env = this.environment;
    return {
      runs: this.snapshot(),
      workers: this.workers(),
      environment: env
        ? { backend: env.backend, renderer: env.renderer, userAgent: env.userAgent, ...(env.backendChoice ? { backendChoice: env.backendChoice } : {}) }
        : nodeEnvironment(this.opts.config.backend),
      fatal,
      models: { written: [...this.models.written], failures: [...this.models.failures] },
    };
  }

  /** Every worker stops after its current step; no cell is started after this. */
  stop(): void {
    this.stopping = true;
    for (const h of this.hosts) if (!h.dead) h.stop();
  }

  /** Kills the worker processes now; their running cells end as aborted with the rounds completed. */
  kill(): void {
    this.stopping = true;
    this.killing = true;
    for (const h of this.hosts) if (!h.dead) h.kill();
  }

  /** What is known now, in cell order: finished and kept runs, and running cells with their completed rounds (as aborted). */
  snapshot(): RunRecord[] {
    const { config } = this.opts;
    const out: RunRecord[] = [];
    for (const c of this.opts.cells) {
      const key = cellKey(c);
      const p = this.prior.get(key);
      const run = this.done.get(key) ?? this.running.get(key) ?? p;
      if (!run) continue;
      const kept = run === p ? finishedRun(p, config) : null;
      if (kept) out.push(kept);
      else out.push({ ...run, ...(run === this.running.get(key) ? { status: 'aborted' as const } : {}), rounds: [...run.rounds] });
    }
    return out;
  }

  workers(): WorkerReport[] {
    return this.hosts.map((h) => ({ ...h.report, cells: h.report.cells.map((c) => ({ ...c })) }));
  }

  private spawn(): Host {
    const worker = this.nextWorker++;
    const host = this.inProcess ? this.here(worker) : this.child(worker);
    this.hosts.push(host);
    return host;
  }

  private addModels(m: ModelsReport): void {
    this.models.written.push(...m.written);
    this.models.failures.push(...m.failures);
  }

  private track(cell: Cell, prior: RunRecord | null): RunRecord {
    const run: RunRecord = { ...cell, status: 'aborted', rounds: prior ? [...prior.rounds] : [] };
    this.running.set(cellKey(cell), run);
    return run;
  }

  /** One worker: the cells run in this process. */
  private here(worker: number): Host {
    const { config, hooks } = this.opts;
    const report: WorkerReport = { worker, pid: process.pid, cells: [], peakRssBytes: 0, peakTensorBytes: 0, peakTensors: 0, exit: null };
    const ctrl = new AbortController();
    const ready = this.runner ? Promise.resolve(this.runner) : CellRunner.open(config, this.opts.models ?? null, this.opts.dataset ?? null);
    const update = (m: MemoryReport) => Object.assign(report, m);
    return {
      report,
      ready: ready.then((r) => (update(r.memory()), r.environment)),
      dead: false,
      run: async (cell, prior) => {
        const r = await ready;
        const live = this.track(cell, prior);
        if (this.stopping) ctrl.abort();
        const run = await r.run(cell, prior, ctrl.signal, {
          round: (record) => {
            live.rounds.push(record);
            update(r.memory());
            hooks.round(report, cell, record);
          },
          event: (e) => hooks.event?.(report, cell, e),
        });
        update(r.memory());
        this.addModels(r.takeModels());
        return run;
      },
      stop: () => ctrl.abort(),
      kill: () => ctrl.abort(),
      close: async () => {},
    };
  }

  /** A worker process. */
  private child(worker: number): Host {
    const { config, hooks } = this.opts;
    // tsx for the TypeScript sources, and this process's memory limits; nothing else of its
    // flags (a test runner's or a debugger's would not fit a worker).
    const execArgv = ['--import', 'tsx', ...process.execArgv.filter((a) => /^--(max-old-space-size|max-semi-space-size|stack-size)=/.test(a))];
    const proc: ChildProcess = fork(WORKER_SCRIPT, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const report: WorkerReport = { worker, pid: proc.pid ?? 0, cells: [], peakRssBytes: 0, peakTensorBytes: 0, peakTensors: 0, exit: null };
    const stderrTail: string[] = [];
    let partial = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        stderrTail.push(l);
        if (stderrTail.length > 20) stderrTail.shift();
        hooks.log?.(report, l);
      }
    });
    let current: { cell: Cell; run: RunRecord; resolve: (r: RunRecord) => void } | null = null;
    let readyResolve!: (e: Environment) => void;
    let readyReject!: (err: Error) => void;
    const ready = new Promise<Environment>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => {}); // observed by the slot; a host that dies later must not leave it unhandled
    let exited: () => void;
    const gone = new Promise<void>((res) => (exited = res));
    const send = (m: ToWorker) => {
      if (proc.connected) proc.send(m, (err) => void err); // a worker that died meanwhile is handled at 'exit'
    };
    const update = (m: MemoryReport) => Object.assign(report, m);
    const host: Host = {
      report,
      ready,
      dead: false,
      run: (cell, prior) =>
        new Promise<RunRecord>((resolve) => {
          current = { cell, run: this.track(cell, prior), resolve };
          send({ type: 'run', cell, prior });
          if (this.stopping) send({ type: 'stop' });
        }),
      stop: () => send({ type: 'stop' }),
      kill: () => void proc.kill('SIGKILL'),
      close: async () => {
        if (proc.connected) proc.disconnect();
        await gone;
      },
    };
    proc.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          update(m.memory);
          readyResolve(m.environment);
          break;
        case 'init-error':
          readyReject(new Error(`worker ${worker} (pid ${report.pid}) could not start: ${m.message}`));
          proc.kill('SIGKILL');
          break;
        case 'round':
          update(m.memory);
          if (current) {
            current.run.rounds.push(m.record);
            hooks.round(report, current.cell, m.record);
          }
          send({ type: 'ack' });
          break;
        case 'event':
          if (current) hooks.event?.(report, current.cell, m.event);
          break;
        case 'done': {
          update(m.memory);
          this.addModels(m.models);
          const c = current;
          current = null;
          c?.resolve(m.run);
          break;
        }
      }
    });
    const died = (why: string) => {
      if (host.dead) return;
      host.dead = true;
      if (partial) stderrTail.push(partial);
      const last = stderrTail.filter((l) => l.trim()).slice(-3).join(' | ');
      report.exit = why === 'exited with code 0' ? null : why;
      const message = `worker ${worker} (pid ${report.pid}) ${why}`;
      readyReject(new Error(`${message} before it was ready${last ? `: ${last}` : ''}`));
      if (current) {
        const c = current;
        current = null;
        const round = c.run.rounds.length;
        const error = `${message} during round ${round} of ${cellName(c.cell)}${last && !this.killing ? `: ${last}` : ''}`;
        c.resolve(this.killing ? { ...c.run, status: 'aborted' } : { ...c.run, status: 'failed', error });
      }
      exited();
    };
    proc.on('exit', (code, signal) => died(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    proc.on('error', (err) => {
      died(`failed: ${err.message}`);
      proc.kill('SIGKILL');
    });
    send({ type: 'init', config, models: this.opts.models?.folder ?? null, dataset: this.opts.dataset ?? null });
    return host;
  }
}

/** The environment of a run no worker reported one for (none started): what it would have run on. */
function nodeEnvironment(configured: ExperimentConfig['backend']): ExperimentResults['environment'] {
  const { backend, choice } = nodeBackend(configured);
  return { backend, renderer: null, userAgent: null, ...(choice ? { backendChoice: choice } : {}) };
}
