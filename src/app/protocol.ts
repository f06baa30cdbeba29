/**
 * The messages between the page and the compute host (a Web Worker, or the in-page fallback).
 * Plain data only: numbers, strings, arrays and typed arrays, never tensors. Type-only imports,
 * so the page can use these types without loading tfjs.
 *
 * The page validates configurations and results files itself (catalog.ts, `resolveConfig`,
 * `validateResults`): no message asks the host whether something is valid.
 */
import type { BackendChoiceRecord } from '../backend/auto-choice.ts';
import type { BackendChoice, BackendInfo } from '../backend/catalog.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import type { ExperimentEvent } from '../engine/events.ts';
import type { ExperimentResults, RunRecord } from '../engine/results.ts';

export type { Catalog, DatasetMeta, ModelMeta, StrategyMeta } from './catalog.ts';

/** What the page learns about the loaded dataset before the first event. */
export interface DatasetInfo {
  name: string;
  kind: 'image' | 'points' | 'tabular';
  shape: number[];
  numClasses: number;
  classNames: string[];
  trainSize: number;
  testSize: number;
  /** 2-D datasets: every training point, row-major [N, 2], and its class. */
  points: { x: Float32Array; y: Uint8Array } | null;
  /** 2-D datasets: the G x G grid the round events' `grid` predictions refer to (row 0 = top). */
  grid: GridSpec | null;
  /** True for images without labels (labeled in "Label it yourself"; no test set, no accuracy). */
  unlabeled?: boolean;
}

export interface GridSpec {
  size: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** `Queried.labels` where no label is known: a skipped row of data without labels, or its rows in a results file opened. */
export const NO_LABEL = 255;

/**
 * The rows a round selected, for display: true labels (on data without labels, the person's, and
 * `NO_LABEL` for a skip), and pixels for image datasets.
 */
export interface Queried {
  labels: Uint8Array;
  /** Image datasets: row-major [k, H, W, C] uint8 pixels; null otherwise. */
  pixels: Uint8Array | null;
}

export type RoundEvent = Extract<ExperimentEvent, { type: 'round' }> & { queried: Queried };
/** The engine's events as the page receives them: round events carry the queried rows. */
export type AppEvent = Exclude<ExperimentEvent, { type: 'round' }> | RoundEvent;

export interface FieldError {
  /** The config field the message names (ConfigError.field), or null for a general error. */
  field: string | null;
  message: string;
}

/** What 'auto' calibrates on: the chosen model at the run's batch and chunk sizes. */
export type AutoWorkload = Pick<ExperimentConfig, 'dataset' | 'model' | 'batchSize' | 'chunkSize'>;

export type ToHost =
  /** Switch to a backend; 'auto' measures the candidates on `workload` (or reads the cached timings). */
  | { type: 'backend'; name: BackendChoice; workload: AutoWorkload }
  /**
   * Start a run; with `resume`, continue that earlier run of the same config from its completed
   * rounds. With `human`, the oracle is the person at the page ("Label it yourself"): each round's
   * batch comes as a `query`, the run waits for the page's `labels`; the same configuration with
   * the simulated oracle runs beside it, its rounds sent as `reference`.
   */
  | { type: 'run'; config: Record<string, unknown>; resume?: { config: ExperimentConfig; runs: RunRecord[] }; human?: boolean }
  /**
   * The person's answer to `query` `id`: one label per queried row, -1 = skipped; and the digits
   * drawn on the pad and added to the labeled set while the batch waited (28x28 uint8 each, with its label).
   */
  | { type: 'labels'; id: number; labels: number[]; added?: { label: number; pixels: Uint8Array }[] }
  /** The drawing pad: a 28x28 digit (MNIST-preprocessed bytes, src/app/digit.ts) for the current model of a labeling run. */
  | { type: 'predictDigit'; id: number; pixels: Uint8Array }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /**
   * The labels (and pixels, for images) of rows of a dataset's train split, e.g. those a results
   * file the page has checked selected: `selected[run][round]` lists row indices.
   */
  | { type: 'rows'; id: number; dataset: string; seed: number; selected: number[][][] }
  /**
   * The final model of a finished run of the current experiment (see `modelReady`), as the files
   * `<name>.json` and `<name>.weights.bin` (a plain file stem: model.json's manifest names the
   * weights file, and tf.io.browserFiles matches it by that name).
   */
  | { type: 'exportModel'; id: number; strategy: string; repeat: number; name: string }
  /**
   * The user's own data: picked or dropped files (a folder's `webkitRelativePath`s, or one table)
   * to decode in the host (datasets/user/browser.ts); the host keeps the decoded rows, and runs and
   * `rows` may then name the dataset. Answered with `userData`.
   */
  | { type: 'userData'; id: number; data: string; files: { path: string; file: Blob }[]; options: UserDataOptions }
  /** Diagnostics: throw an uncaught error in the host (tests the crash path). */
  | { type: 'crash' }
  /** Diagnostics: lose the WebGL context (`WEBGL_lose_context`), as a GPU reset would. */
  | { type: 'lose-context' }
  /**
   * Diagnostics: how long a run interrupted by a GPU loss gets to wind down before the next attempt
   * starts anyway (supervisor.ts, default WIND_DOWN_MS), for this host's later runs.
   */
  | { type: 'wind-down'; ms: number };

export type FromHost =
  | { type: 'ready'; offscreenWebgl: boolean | null }
  /** The active backend; `choice` says how 'auto' picked it (absent for a backend asked for by name). */
  | { type: 'backend'; info: BackendInfo | null; error: string | null; choice?: BackendChoiceRecord }
  | { type: 'status'; message: string }
  /** Something the user should know that is not an engine event (e.g. the GPU context was lost and the run continues). */
  | { type: 'notice'; level: 'info' | 'warning'; message: string }
  | { type: 'dataset'; info: DatasetInfo }
  /** The run's model, layer by layer (the Model panel), built in the host from the tfjs model. */
  | { type: 'modelSummary'; summary: ModelSummary }
  | { type: 'memory'; when: 'before' | 'after'; numTensors: number; numBytes: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'event'; event: AppEvent }
  /** The run could not start (config or backend error). */
  | { type: 'rejected'; error: FieldError }
  /** The run failed after it started; `results` keep every completed round. */
  | { type: 'failed'; message: string; results: ExperimentResults | null }
  /** The host is idle again (after end, failure or rejection). */
  | { type: 'idle' }
  /** The rows asked for: `queried[run][round]`, in the order of the request. */
  | { type: 'rows'; id: number; queried: Queried[][] }
  /** The rows could not be read (e.g. the dataset failed to load). */
  | { type: 'rowsFailed'; id: number; message: string }
  /** A run of the current experiment finished: its final model is kept in the host, `bytes` of weights, until the next run starts. */
  | { type: 'modelReady'; strategy: string; repeat: number; bytes: number }
  /** A labeling run's batch to label (answer with `labels`); see `LabelQuery`. */
  | { type: 'query'; query: LabelQuery }
  /** A round of the simulated-oracle run beside a labeling run (same strategy and seed). */
  | { type: 'reference'; strategy: string; repeat: number; round: number; labeled: number; accuracy: number }
  /** The answer to `predictDigit`: the current model's class probabilities (C numbers), or why there are none. */
  | { type: 'digit'; id: number; probs: number[] | null; error: string | null }
  /** The answer to `userData`: what the data is (for the catalog and the summary), or why it cannot be used. */
  | { type: 'userData'; id: number; summary: UserDataSummary | null; error: string | null }
  /** The answer to `exportModel`: the two files (the weights' buffer transferred), or why not. */
  | { type: 'model'; id: number; files: ModelFiles | null; error: string | null };

/** The rows a labeling run asks the person to label, with what the page shows of them. */
export interface LabelQuery {
  id: number;
  strategy: string;
  repeat: number;
  round: number;
  /** The dataset rows (train split) to label, in the order the answer lists their labels. */
  indices: Int32Array;
  /** Their dataset labels where the dataset has them, to measure agreement (never shown before an answer). */
  truth: Uint8Array | null;
  /** Image datasets: row-major [k, H, W, C] uint8 pixels; null otherwise. */
  pixels: Uint8Array | null;
  /** 2-D datasets: the rows' coordinates, row-major [k, 2]; null otherwise. */
  points: Float32Array | null;
  /** The current model's three likeliest classes per row, row-major [k, 3] (fewer columns for fewer classes), and their probabilities. */
  top: { classes: Int32Array; probs: Float32Array; k: number };
}

/** A model's layers as plain data, what `model.summary()` prints (src/app/host/model-summary.ts). */
export interface ModelSummary {
  /** The model's registry name (config.model). */
  model: string;
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
}

export interface LayerSummary {
  name: string;
  /** The layer's class, e.g. 'Dense'. */
  type: string;
  /** E.g. '[null, 10]' (null: the batch dimension). */
  outputShape: string;
  params: number;
  trainable: boolean;
}

/** A final model as TensorFlow.js files: model.json's text and the weights file it names. */
export interface ModelFiles {
  jsonName: string;
  modelJson: string;
  weightsName: string;
  weights: ArrayBuffer;
}

/** How the user's own data is read (the CLI's --test-fraction, --label-column and --image-size). */
export interface UserDataOptions {
  testFraction?: number;
  labelColumn?: string | null;
  imageSize?: [number, number, 1 | 3];
  /** The separate test folder or table (the CLI's --test): its files are sent with the data's, under this name. */
  test?: string | null;
  /** A folder without class folders: the class names the person gives it ("Label it yourself"); null: none given. */
  classes?: string[] | null;
}

/** The user's own data as the page shows it before a run: plain data. */
export interface UserDataSummary {
  /** The catalog entry (`describeDataset`'s input: name, kind, description, shape, classNames, sizes, hash). */
  description: { name: string; kind: 'image' | 'tabular'; description: string; shape: number[]; classNames: string[]; sizes: { train: number; test: number }; hash: string; unlabeled?: boolean };
  /** Rows per class (the training rows and any separate test rows together); all 0 for data without labels. */
  classCounts: number[];
  /**
   * Image data: up to `SAMPLES_PER_CLASS` rows of each class, [k, H, W, C] uint8, and their classes
   * (without labels: the first `SAMPLES_PER_CLASS` images, their labels `NO_LABEL`).
   */
  samples: { labels: Uint8Array; pixels: Uint8Array } | null;
  /** A table's feature columns. */
  featureNames: string[] | null;
  /** Every problem found that did not stop the data (files skipped), as text. */
  warnings: string[];
}

export const SAMPLES_PER_CLASS = 8;
