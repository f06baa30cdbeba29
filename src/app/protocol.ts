/**
 * The messages between the page and the compute host (a Web Worker, or the in-page fallback).
 * Plain data only: numbers, strings, arrays and typed arrays, never tensors. Type-only imports,
 * so the page can use these types without loading tfjs.
 */
import type { BackendInfo, BackendName } from '../backend/index.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import type { ExperimentEvent } from '../engine/events.ts';
import type { ExperimentResults, RunRecord } from '../engine/results.ts';

/** Registry metadata the page needs to build its form (the registries themselves import tfjs). */
export interface Catalog {
  datasets: Record<string, DatasetMeta>;
  models: Record<string, ModelMeta>;
  strategies: StrategyMeta[];
  backends: BackendName[];
  /** The engine's defaults (`DEFAULT_CONFIG`). */
  defaults: ExperimentConfig;
}

export interface DatasetMeta {
  kind: 'image' | 'points' | 'tabular';
  description: string;
  shape: number[];
  numClasses: number;
  classNames: string[];
  sizes: { train: number; test: number };
}

export interface ModelMeta {
  description: string;
  inputKinds: string[];
  hasDropout: boolean;
}

export interface StrategyMeta {
  name: string;
  label: string;
  formula: string;
  description: string;
  needs: string[];
}

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
}

export interface GridSpec {
  size: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The rows a round selected, for display: true labels, and pixels for image datasets. */
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

export type ToHost =
  | { type: 'validate'; id: number; config: Record<string, unknown> }
  | { type: 'backend'; name: BackendName }
  /** Start a run; with `resume`, continue that earlier run of the same config from its completed rounds. */
  | { type: 'run'; config: Record<string, unknown>; resume?: { config: ExperimentConfig; runs: RunRecord[] } }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** Open a results file (checked by readResultsFile in the host; nothing is read past the size limit). */
  | { type: 'open'; id: number; file: Blob }
  /**
   * The final model of a finished run of the current experiment (see `modelReady`), as the files
   * `<name>.json` and `<name>.weights.bin` (a plain file stem: model.json's manifest names the
   * weights file, and tf.io.browserFiles matches it by that name).
   */
  | { type: 'exportModel'; id: number; strategy: string; repeat: number; name: string }
  /** Diagnostics: throw an uncaught error in the host (tests the crash path). */
  | { type: 'crash' }
  /** Diagnostics: lose the WebGL context (`WEBGL_lose_context`), as a GPU reset would. */
  | { type: 'lose-context' };

export type FromHost =
  | { type: 'ready'; catalog: Catalog; offscreenWebgl: boolean | null }
  | { type: 'validated'; id: number; error: FieldError | null; config: ExperimentConfig | null }
  | { type: 'backend'; info: BackendInfo | null; error: string | null }
  | { type: 'status'; message: string }
  /** Something the user should know that is not an engine event (e.g. the GPU context was lost and the run continues). */
  | { type: 'notice'; level: 'info' | 'warning'; message: string }
  | { type: 'dataset'; info: DatasetInfo }
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
  /**
   * A results file, checked: its results, the dataset they refer to, and the rows each round
   * selected (`queried[run][round]`, runs in the order of `results.runs`).
   */
  | { type: 'opened'; id: number; results: ExperimentResults; info: DatasetInfo; queried: Queried[][] }
  /** A results file refused (the ResultsFileError's message) or unreadable. */
  | { type: 'openFailed'; id: number; message: string }
  /** A run of the current experiment finished: its final model is kept in the host, `bytes` of weights, until the next run starts. */
  | { type: 'modelReady'; strategy: string; repeat: number; bytes: number }
  /** The answer to `exportModel`: the two files (the weights' buffer transferred), or why not. */
  | { type: 'model'; id: number; files: ModelFiles | null; error: string | null };

/** A final model as TensorFlow.js files: model.json's text and the weights file it names. */
export interface ModelFiles {
  jsonName: string;
  modelJson: string;
  weightsName: string;
  weights: ArrayBuffer;
}
