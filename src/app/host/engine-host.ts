/**
 * The compute host: everything that touches tfjs. It runs inside the Web Worker (worker.ts) or,
 * where a worker cannot do the job, on the page (the fallback). It speaks the protocol in
 * protocol.ts: config in, plain-data events out (typed arrays transferred, never tensors).
 */
import * as tf from '@tensorflow/tfjs';
import { BUILTIN_DATASETS, DATASETS, fetchSource, loadDataset, withDataset, type Dataset, type DatasetCatalog, type DatasetName } from '../../../datasets/index.ts';
import { loadPickedData } from '../../../datasets/user/browser.ts';
import { checkClassSizes, describeUserData, materialize, type UserData, type UserDatasetRecord } from '../../../datasets/user/data.ts';
import { warningText } from '../../../datasets/user/errors.ts';
import { exportFiles, type ModelExport } from '../../../models/export.ts';
import type { BackendChoiceRecord } from '../../backend/auto-choice.ts';
import type { BackendChoice } from '../../backend/catalog.ts';
import { backendInfo, useBackend, type BackendName } from '../../backend/index.ts';
import { configureWasmPaths } from '../../backend/wasm-paths.browser.ts';
import { activeGpuBackend, freshGpuBackend, gpuLost, loseGpu, watchGpuLoss } from '../../backend/gpu-loss.ts';
import { ConfigError, resolveConfig, type ExperimentConfig } from '../../engine/config.ts';
import type { ExperimentEvent } from '../../engine/events.ts';
import { tfLearner } from '../../engine/learner.ts';
import { ExperimentError, runExperiment, type RunOptions } from '../../engine/loop.ts';
import type { ExperimentResults } from '../../engine/results.ts';
import { NO_LABEL, type DatasetInfo, type FieldError, type FromHost, type GridSpec, type Queried, type ToHost } from '../protocol.ts';
import { summarizeUserData } from './user-summary.ts';
import { describeModel } from './model-summary.ts';
import { chooseBackend, indexedDbCache, type Workload } from './calibrate.ts';
import { HumanOracle } from './human-oracle.ts';
import { supervise } from './supervisor.ts';

export type Post = (msg: FromHost, transfer?: Transferable[]) => void;

/** Side of the decision-boundary grid for 2-D datasets (G x G predictions per round). */
export const GRID_SIZE = 64;

/** Whether this context can give tfjs a WebGL context on an OffscreenCanvas (null: not checked). */
function offscreenWebgl(): boolean | null {
  if (typeof OffscreenCanvas === 'undefined') return false;
  try {
    const c = new OffscreenCanvas(1, 1);
    return !!(c.getContext('webgl2') ?? c.getContext('webgl'));
  } catch {
    return false;
  }
}

function fieldError(err: unknown): FieldError {
  if (err instanceof ConfigError) return { field: err.field, message: err.message };
  return { field: null, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** The G x G grid over the training points' bounding box (10% margin), row-major, top row first. */
export function gridOver(x: Float32Array, size: number): { spec: GridSpec; points: Float32Array } {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < x.length; i += 2) {
    x0 = Math.min(x0, x[i]!);
    x1 = Math.max(x1, x[i]!);
    y0 = Math.min(y0, x[i + 1]!);
    y1 = Math.max(y1, x[i + 1]!);
  }
  const mx = (x1 - x0) * 0.1 || 1, my = (y1 - y0) * 0.1 || 1;
  x0 -= mx; x1 += mx; y0 -= my; y1 += my;
  const points = new Float32Array(size * size * 2);
  for (let r = 0; r < size; r++) {
    const yv = y1 - ((r + 0.5) / size) * (y1 - y0);
    for (let c = 0; c < size; c++) {
      const k = (r * size + c) * 2;
      points[k] = x0 + ((c + 0.5) / size) * (x1 - x0);
      points[k + 1] = yv;
    }
  }
  return { spec: { size, x0, x1, y0, y1 }, points };
}

/**
 * The labels (and pixels, for images) of the rows a round selected: the dataset's; on data without
 * labels, those the oracle `given` (NO_LABEL for a skip, or for all without `given`).
 */
function queriedRows(ds: Dataset<string>, selected: readonly number[], given?: readonly number[]): Queried {
  for (const i of selected) {
    if (!Number.isInteger(i) || i < 0 || i >= ds.train.n) throw new RangeError(`row ${i} is not a row of ${ds.name}'s train split (0 to ${ds.train.n - 1})`);
  }
  const labels = ds.unlabeled
    ? Uint8Array.from(selected, (_, j) => (given && given[j]! >= 0 ? given[j]! : NO_LABEL))
    : Uint8Array.from(selected, (i) => ds.train.y[i]!);
  if (ds.kind !== 'image' || !(ds.train.x instanceof Uint8Array)) return { labels, pixels: null };
  const d = ds.shape.reduce((a, b) => a * b, 1);
  const pixels = new Uint8Array(selected.length * d);
  selected.forEach((row, k) => pixels.set((ds.train.x as Uint8Array).subarray(row * d, (row + 1) * d), k * d));
  return { labels, pixels };
}

/**
 * Creates a host that answers `ToHost` messages through `post`. `dataBase` is where the data
 * files are served (`<base>data/`).
 */
export function createEngineHost(post: Post, dataBase: string): (msg: ToHost) => void {
  configureWasmPaths();
  const datasets = new Map<string, Promise<Dataset<string>>>();
  /** The user's own data the page sent (`userData`), decoded, by dataset name. */
  const userSets = new Map<string, UserData>();
  /** The built-in datasets and the user's. */
  const catalogNow = (): DatasetCatalog => {
    let c: DatasetCatalog = BUILTIN_DATASETS;
    for (const u of userSets.values()) c = withDataset(c, describeUserData(u));
    return c;
  };
  /** A user dataset split for a seed, and its record for the results. */
  const userSplits = new Map<string, { dataset: Dataset<string>; record: UserDatasetRecord }>();
  const userSplit = (u: UserData, seed: number) => {
    const key = `${u.name}:${u.hash}:${seed}`;
    let m = userSplits.get(key);
    if (!m) {
      m = materialize(u, seed);
      userSplits.set(key, m);
    }
    return m;
  };
  let running = false;
  let ctrl: AbortController | null = null;
  let pause: { promise: Promise<void>; resolve: () => void } | null = null;
  /** Set by the `wind-down` diagnostic (the supervisor's default otherwise). */
  let windDownMs: number | undefined;
  /** The person's oracle of the labeling run in progress (null otherwise). */
  let human: HumanOracle | null = null;
  let backendQueue: Promise<unknown> = Promise.resolve();
  /**
   * The final models of the current experiment's finished runs, by run, as plain data (on MNIST
   * 31 kB for logreg, 0.4 MB for the mlp, 2 MB for the CNN): kept until the next run starts (one
   * experiment's runs at most), for `exportModel`.
   */
  const models = new Map<string, ModelExport>();
  const modelKey = (strategy: string, repeat: number) => `${strategy}#${repeat}`;
  /** Lets a paused run go on (to continue, or to notice that it was stopped). */
  const releasePause = () => {
    const p = pause;
    pause = null;
    p?.resolve();
  };

  post({ type: 'ready', offscreenWebgl: offscreenWebgl() });

  const timingCache = indexedDbCache();
  const activate = async (name: BackendName) => {
    if (tf.getBackend() !== name) await useBackend(name);
    else await tf.ready();
  };
  /** A calibration gave up on a GPU backend: drop its queued work with the context (or device), and start a fresh one. */
  const abandonCalibration = async (name: BackendName) => {
    if ((name === 'webgl' || name === 'webgpu') && activeGpuBackend() === name && loseGpu()) await freshGpuBackend(name);
  };
  /**
   * Switches backend (serialised) and reports it; rejects with the reason if it cannot start.
   * 'auto' calibrates `workload` on each candidate (or reads the cached timings) and resolves with
   * how it chose.
   */
  const switchBackend = (name: BackendChoice, workload?: Workload): Promise<BackendChoiceRecord | null> => {
    const next = backendQueue.then(async () => {
      try {
        let choice: BackendChoiceRecord | null = null;
        if (name === 'auto') {
          if (!workload) throw new Error("'auto' needs the model to measure");
          choice = await chooseBackend(workload, { use: activate, progress: (message) => post({ type: 'status', message }), abandon: abandonCalibration }, timingCache);
        } else await activate(name);
        post({ type: 'backend', info: backendInfo(), error: null, ...(choice ? { choice } : {}) });
        return choice;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        let info = null;
        try {
          info = tf.getBackend() ? backendInfo() : null;
        } catch {
          info = null;
        }
        post({ type: 'backend', info, error: message });
        throw err;
      }
    });
    backendQueue = next.catch(() => undefined);
    return next;
  };

  const getDataset = (config: Pick<ExperimentConfig, 'dataset' | 'seed'>): Promise<Dataset<string>> => {
    const user = userSets.get(config.dataset);
    if (user) return Promise.resolve(userSplit(user, config.seed).dataset);
    const seeded = BUILTIN_DATASETS.get(config.dataset)?.seeded ?? false;
    const key = seeded ? `${config.dataset}:${config.seed}` : config.dataset;
    let p = datasets.get(key);
    if (!p) {
      p = loadDataset(config.dataset, { source: fetchSource(dataBase), seed: config.seed });
      datasets.set(key, p);
      p.catch(() => datasets.delete(key));
    }
    return p;
  };

  const memory = (when: 'before' | 'after') => {
    const m = tf.memory();
    post({ type: 'memory', when, numTensors: m.numTensors, numBytes: m.numBytes });
  };

  /**
   * The simulated oracle's run beside a labeling run: the same configuration, seed and strategy,
   * the dataset's labels as answers; its rounds go to the page as `reference`. It runs while the
   * person labels (the labeling run is idle then) and is stopped with it.
   */
  function referenceRun(config: ExperimentConfig, ds: Dataset<string>, signal: AbortSignal): Promise<void> {
    return runExperiment(config, ds, {
      signal,
      onEvent: (e) => {
        if (e.type === 'round' && e.record.accuracy !== null) post({ type: 'reference', strategy: e.strategy, repeat: e.repeat, round: e.record.round, labeled: e.record.labeled, accuracy: e.record.accuracy });
      },
    }).then(
      () => undefined,
      (err: unknown) => {
        if (!signal.aborted) post({ type: 'notice', level: 'warning', message: `the simulated oracle's curve beside yours stopped: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
  }

  async function run(partial: Record<string, unknown>, resume: Pick<ExperimentResults, 'config' | 'runs'> | null, labeling = false): Promise<void> {
    if (running) {
      post({ type: 'rejected', error: { field: null, message: 'a run is already in progress' } });
      return;
    }
    let config: ExperimentConfig;
    try {
      const catalog = catalogNow();
      config = resolveConfig(partial as Partial<ExperimentConfig>, { datasets: catalog });
      if (resume) resume = { config: resolveConfig(resume.config, { datasets: catalog }), runs: resume.runs };
      const user = userSets.get(config.dataset);
      if (user && !user.labeled && !labeling) {
        throw new ConfigError('dataset', config.dataset, `a dataset with labels: ${config.dataset} has none (a folder without class folders), so it is taken only by "Label it yourself", where you give every label`);
      }
      if (user) checkClassSizes(user, userSplit(user, config.seed).dataset.train, config);
    } catch (err) {
      post({ type: 'rejected', error: fieldError(err) });
      post({ type: 'idle' });
      return;
    }
    running = true;
    models.clear();
    ctrl = new AbortController();
    pause = null;
    const signal = ctrl.signal;
    let started = false;
    let reference: Promise<void> | null = null;
    let finished = false;
    let stopReference: (() => void) | null = null;
    let record: UserDatasetRecord | null = null;
    const withRecord = (r: ExperimentResults): ExperimentResults => (record ? { ...r, dataset: record } : r);
    try {
      post({ type: 'status', message: config.backend === 'auto' ? 'choosing the fastest backend' : `starting the ${config.backend} backend` });
      let backendChoice: BackendChoiceRecord | null;
      try {
        backendChoice = await switchBackend(config.backend, config);
      } catch (err) {
        post({ type: 'rejected', error: { field: 'backend', message: err instanceof Error ? err.message : String(err) } });
        return;
      }
      const user = userSets.get(config.dataset);
      const spec = user ? null : DATASETS[config.dataset as DatasetName];
      post({ type: 'status', message: !spec ? `splitting ${config.dataset}` : spec.files.length ? `loading ${config.dataset} (${spec.sizes.train + spec.sizes.test} images)` : `generating ${config.dataset}` });
      const ds = await getDataset(config);
      // Results on the user's own data name it (name, hash) and keep its split's standardization.
      record = user ? userSplit(user, config.seed).record : null;
      if (signal.aborted) {
        post({ type: 'rejected', error: { field: null, message: 'stopped before the run started' } });
        return;
      }
      let grid: { spec: GridSpec; points: Float32Array } | null = null;
      let points: DatasetInfo['points'] = null;
      if (ds.kind === 'points' && ds.shape.length === 1 && ds.shape[0] === 2 && ds.train.x instanceof Float32Array) {
        grid = gridOver(ds.train.x, GRID_SIZE);
        points = { x: ds.train.x.slice(), y: ds.train.y.slice() };
      }
      const info: DatasetInfo = {
        name: ds.name, kind: ds.kind, shape: [...ds.shape], numClasses: ds.numClasses, classNames: [...ds.classNames],
        trainSize: ds.train.n, testSize: ds.test.n, points, grid: grid?.spec ?? null, ...(ds.unlabeled ? { unlabeled: true } : {}),
      };
      post({ type: 'dataset', info }, points ? [points.x.buffer, points.y.buffer] : []);
      // Built and disposed before the tensor count the diagnostics compare against the run's end.
      post({ type: 'modelSummary', summary: describeModel(config.model, { inputShape: ds.shape, numClasses: ds.numClasses, seed: config.seed }) });
      memory('before');
      started = true;
      let parts: Pick<RunOptions, 'learner' | 'oracle' | 'oracleKind'> = {};
      if (labeling) {
        human = new HumanOracle(post, ds, signal);
        parts = {
          learner: human.wrap(tfLearner({ model: config.model, epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, warmStart: config.warmStart, chunkSize: config.chunkSize })),
          oracle: human.ask,
          oracleKind: 'human',
        };
        const refCtrl = new AbortController();
        signal.addEventListener('abort', () => refCtrl.abort(), { once: true });
        stopReference = () => refCtrl.abort();
        // The simulated oracle answers from the dataset's labels: none without them.
        if (!ds.unlabeled) reference = referenceRun(config, ds, refCtrl.signal);
      }
      const onEvent = (e: ExperimentEvent) => {
        if (e.type !== 'round') {
          post({ type: 'event', event: e.type === 'end' ? { ...e, results: withRecord(e.results) } : e });
          return;
        }
        // Copies, so transferring them never detaches an array the engine still holds.
        const scores = e.scores ? e.scores.slice() : null;
        const g = e.grid ? { predicted: e.grid.predicted.slice(), confidence: e.grid.confidence.slice() } : null;
        const queried = queriedRows(ds, e.record.selected, e.record.labels);
        const transfer: Transferable[] = [queried.labels.buffer];
        if (queried.pixels) transfer.push(queried.pixels.buffer);
        if (scores) transfer.push(scores.buffer);
        if (g) transfer.push(g.predicted.buffer, g.confidence.buffer);
        post({ type: 'event', event: { ...e, scores, grid: g, queried } }, transfer);
      };
      await supervise(config, {
        run: (attemptConfig, options) => runExperiment(attemptConfig, ds, { ...options, ...parts, ...(backendChoice ? { backendChoice } : {}) }),
        context: { active: activeGpuBackend, watch: watchGpuLoss, lost: gpuLost },
        freshGpu: freshGpuBackend,
        switchToWasm: () => switchBackend('wasm').then(() => undefined),
        reportBackend: () => post({ type: 'backend', info: backendInfo(), error: null }),
        notice: (message) => post({ type: 'notice', level: 'warning', message }),
        ...(windDownMs !== undefined ? { windDownMs } : {}),
      }, {
        signal,
        onEvent,
        waitIfPaused: async (interrupted) => {
          while (pause && !signal.aborted && !interrupted()) {
            post({ type: 'paused' });
            await pause.promise;
          }
        },
        ...(grid ? { grid: grid.points } : {}),
        resume,
        onFinalModel: (r, model) => {
          models.set(modelKey(r.strategy, r.repeat), model);
          post({ type: 'modelReady', strategy: r.strategy, repeat: r.repeat, bytes: model.weightData.byteLength });
        },
      });
      finished = !signal.aborted;
    } catch (err) {
      const results = err instanceof ExperimentError && err.results ? withRecord(err.results) : null;
      const message = err instanceof ExperimentError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (started || results) post({ type: 'failed', message, results });
      else post({ type: 'rejected', error: { field: null, message } });
    } finally {
      human = null;
      // The simulated curve beside a labeling run finishes with a finished run; a stopped or failed one stops it.
      if (!finished) stopReference?.();
      await reference;
      stopReference = null;
      reference = null;
      running = false;
      ctrl = null;
      releasePause();
      if (started) memory('after');
      post({ type: 'idle' });
    }
  }

  /** The labels (and pixels) of rows the page asks for, e.g. those a results file it opened selected. */
  async function rows(id: number, dataset: string, seed: number, selected: number[][][]): Promise<void> {
    try {
      const ds = await getDataset({ dataset, seed });
      const queried = selected.map((run) => run.map((r) => queriedRows(ds, r)));
      const transfer = queried.flat().flatMap((q) => (q.pixels ? [q.labels.buffer, q.pixels.buffer] : [q.labels.buffer]));
      post({ type: 'rows', id, queried }, transfer);
    } catch (err) {
      post({ type: 'rowsFailed', id, message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Decodes the user's files and keeps them as a dataset the runs may name; answers with its summary. */
  async function userData(msg: Extract<ToHost, { type: 'userData' }>): Promise<void> {
    try {
      const loaded = await loadPickedData(msg.files, { data: msg.data, ...msg.options });
      const u = loaded.data;
      const summary = summarizeUserData(u, loaded.warnings.map(warningText));
      withDataset(BUILTIN_DATASETS, describeUserData(u)); // a built-in dataset's name is refused
      const known = userSets.get(u.name);
      if (known && known.hash !== u.hash && running) throw new Error(`a run on '${u.name}' is in progress: stop it before replacing its data`);
      userSets.set(u.name, u);
      for (const key of [...userSplits.keys()]) if (key.startsWith(`${u.name}:`) && !key.startsWith(`${u.name}:${u.hash}:`)) userSplits.delete(key);
      const transfer = summary.samples ? [summary.samples.labels.buffer, summary.samples.pixels.buffer] : [];
      post({ type: 'userData', id: msg.id, summary, error: null }, transfer);
    } catch (err) {
      post({ type: 'userData', id: msg.id, summary: null, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The files of a kept final model (a copy of its weights, transferred), or why there are none. */
  function exportModel(msg: Extract<ToHost, { type: 'exportModel' }>): void {
    const model = models.get(modelKey(msg.strategy, msg.repeat));
    if (!model) {
      post({ type: 'model', id: msg.id, files: null, error: `no final model is kept for ${msg.strategy}, repeat ${msg.repeat + 1}: only runs that finished in this experiment (not kept from an earlier one, not stopped) have one, until the next run starts` });
      return;
    }
    try {
      const weightsName = `${msg.name}.weights.bin`;
      const { modelJson, weights } = exportFiles(model, weightsName);
      post({ type: 'model', id: msg.id, files: { jsonName: `${msg.name}.json`, modelJson, weightsName, weights }, error: null }, [weights]);
    } catch (err) {
      post({ type: 'model', id: msg.id, files: null, error: err instanceof Error ? err.message : String(err) });
    }
  }

  return (msg: ToHost) => {
    switch (msg.type) {
      case 'exportModel':
        exportModel(msg);
        break;
      case 'userData':
        void userData(msg);
        break;
      case 'rows':
        void rows(msg.id, msg.dataset, msg.seed, msg.selected);
        break;
      case 'backend':
        if (!running) switchBackend(msg.name, msg.workload).catch(() => undefined);
        break;
      case 'run':
        void run(msg.config, msg.resume ?? null, msg.human === true);
        break;
      case 'labels':
        human?.answer(msg.id, msg.labels, msg.added ?? []);
        break;
      case 'predictDigit':
        if (human) void human.predict(msg.id, msg.pixels);
        else post({ type: 'digit', id: msg.id, probs: null, error: 'the pad uses the model of a labeling run: start one ("Label it yourself") to try it' });
        break;
      case 'pause':
        if (running && !pause) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          pause = { promise, resolve };
        }
        break;
      case 'resume':
        if (pause) {
          releasePause();
          post({ type: 'resumed' });
        }
        break;
      case 'stop':
        ctrl?.abort();
        releasePause();
        break;
      case 'lose-context':
        if (!loseGpu()) post({ type: 'notice', level: 'info', message: 'no WebGL context or WebGPU device to lose (the active backend is not webgl or webgpu)' });
        break;
      case 'wind-down':
        if (Number.isFinite(msg.ms) && msg.ms >= 0) windDownMs = msg.ms;
        else post({ type: 'notice', level: 'info', message: `the wind-down after a GPU loss takes a number of milliseconds, at least 0, got ${String(msg.ms)}` });
        break;
      case 'crash':
        setTimeout(() => {
          throw new Error('simulated crash of the compute host');
        });
        break;
    }
  };
}
