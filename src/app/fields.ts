/**
 * The configuration form's fields and the link (query string) format. Pure: no DOM, no tfjs.
 *
 * Every `ExperimentConfig` key has exactly one entry in FIELDS (`satisfies` makes a new engine
 * field a compile error here). The link parser only turns strings into numbers, booleans and
 * lists; whether a value is allowed is decided by the engine's `resolveConfig`.
 */
import { STOCHASTIC_MODES } from '../acquisition/catalog.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import { STOP_WHEN } from '../engine/stopping.ts';

export type ConfigKey = keyof ExperimentConfig;

export type FieldKind =
  | 'dataset' | 'model' | 'strategies' | 'backend'
  /** One of the spec's `choices`; with a `nullToken`, also null (shown as `nullText`). */
  | 'choice'
  | 'int' | 'number' | 'bool'
  /** A number or null; null is the empty input and, in links, `nullToken`. */
  | 'optInt' | 'optNumber';

export type GroupName = 'data' | 'model' | 'strategies' | 'acquisition' | 'run';

export interface FieldSpec {
  kind: FieldKind;
  label: string;
  help: string;
  group: GroupName;
  /** Shown under "More settings". */
  advanced?: boolean;
  min?: number;
  step?: number;
  /** The values of a 'choice' field (besides null), in the order shown. */
  choices?: readonly string[];
  /** What null means, as the input's placeholder; also the link token for null. */
  nullText?: string;
  nullToken?: string;
}

export const GROUPS: Record<GroupName, string> = {
  data: 'Data',
  model: 'Model and training',
  strategies: 'Query strategies',
  acquisition: 'Acquisition',
  run: 'Run',
};

export const FIELDS = {
  dataset: { kind: 'dataset', label: 'Dataset', help: '', group: 'data' },
  testSubset: {
    kind: 'optInt', label: 'Test subset', group: 'data', min: 1, nullText: 'whole test set', nullToken: 'all',
    help: 'Evaluate on a fixed random subset of this many test examples.',
  },
  validation: { kind: 'int', label: 'Validation hold-out', group: 'data', min: 0, advanced: true, help: 'Examples held out of the pool, never queried.' },
  model: { kind: 'model', label: 'Model', help: '', group: 'model' },
  epochs: { kind: 'int', label: 'Epochs per round', group: 'model', min: 1, help: 'The model is retrained on the labeled set every round.' },
  minSteps: {
    kind: 'int', label: 'Minimum steps per round', group: 'model', min: 0, advanced: true,
    help: 'At least this many optimizer steps each round: small labeled sets train more epochs. 0 = the epochs only.',
  },
  batchSize: { kind: 'int', label: 'Batch size', group: 'model', min: 1, advanced: true, help: 'Training batch size (every batch is padded to this size).' },
  learningRate: {
    kind: 'optNumber', label: 'Learning rate', group: 'model', step: 0.0001, advanced: true, nullText: "model's default", nullToken: 'default',
    help: 'Adam learning rate.',
  },
  warmStart: { kind: 'bool', label: 'Warm start', group: 'model', advanced: true, help: "Keep training the previous round's weights instead of a fresh model each round." },
  calibrate: {
    kind: 'bool', label: 'Calibrate (temperature)', group: 'model', advanced: true,
    help: 'After each training, fit a temperature on the validation hold-out and score with calibrated probabilities.',
  },
  strategies: { kind: 'strategies', label: 'Strategies', help: 'Compared side by side on the same initial set and pool.', group: 'strategies' },
  mcSamples: { kind: 'int', label: 'MC-dropout samples', group: 'strategies', min: 2, help: 'Dropout passes T for the MC-dropout strategies.' },
  committee: {
    kind: 'int', label: 'Committee members', group: 'strategies', min: 2, advanced: true,
    help: 'Models trained each round, each from its own seed, for the committee strategies (at least 2).',
  },
  stochastic: {
    kind: 'choice', label: 'Stochastic batches', group: 'strategies', advanced: true, choices: STOCHASTIC_MODES, nullText: 'off (top-k)', nullToken: 'none',
    help: 'Draw each scoring strategy\'s batch from its scores (power: p ∝ s^β; softmax: exp(β s); softrank: rank^-β) instead of taking the top k.',
  },
  stochasticBeta: { kind: 'number', label: 'Stochastic β', group: 'strategies', step: 0.1, advanced: true, help: 'Coldness β >= 0: 0 samples uniformly, larger comes closer to top-k.' },
  initial: { kind: 'int', label: 'Initial labeled set', group: 'acquisition', min: 1, help: 'Labeled examples the first model is trained on.' },
  balanced: { kind: 'bool', label: 'Balanced initial set', group: 'acquisition', help: 'The same number of examples from every class.' },
  query: { kind: 'int', label: 'Labels per round', group: 'acquisition', min: 1, help: 'Examples each strategy asks the oracle to label per round.' },
  rounds: { kind: 'int', label: 'Rounds', group: 'acquisition', min: 0, help: 'Query rounds after the initial training.' },
  oracleNoise: {
    kind: 'number', label: 'Oracle noise', group: 'acquisition', min: 0, step: 0.01, advanced: true,
    help: "A fraction in [0, 1) of the simulated oracle's answers that are a wrong class drawn at random (a fallible annotator).",
  },
  stopSet: {
    kind: 'int', label: 'Stop set', group: 'acquisition', min: 0, advanced: true,
    help: 'Unlabeled examples the advice on when to stop is computed on each round (0: no advice).',
  },
  stopWhen: {
    kind: 'choice', choices: STOP_WHEN, label: 'Stop when', group: 'acquisition', advanced: true,
    help: 'End each run when this criterion holds: predictions stable (kappa), overall uncertainty low, or the queried examples all confident.',
  },
  poolSubset: {
    kind: 'optInt', label: 'Pool subset', group: 'acquisition', min: 1, nullText: 'whole pool', nullToken: 'all',
    help: 'Score a fresh random subset of this many unlabeled examples each round.',
  },
  repeats: { kind: 'int', label: 'Repeats', group: 'run', min: 1, help: 'Independent repeats with different initial sets; curves show mean ± std.' },
  seed: { kind: 'number', label: 'Seed', group: 'run', step: 1, help: 'Every random choice derives from it: the same seed gives the same run.' },
  backend: { kind: 'backend', label: 'Backend', group: 'run', nullToken: 'auto', help: 'auto measures the model briefly on each backend and takes the fastest; webgl computes on your GPU (or a CPU-emulated one); wasm and cpu on the processor.' },
  target: { kind: 'number', label: 'Target accuracy', group: 'run', step: 0.01, advanced: true, help: "A fraction in (0, 1] for the summary's “labels to target”." },
  chunkSize: { kind: 'int', label: 'Prediction chunk', group: 'run', min: 1, advanced: true, help: 'Examples per forward pass when predicting.' },
} as const satisfies Record<ConfigKey, FieldSpec>;

export const FIELD_KEYS = Object.keys(FIELDS) as ConfigKey[];

export function fieldSpec(key: ConfigKey): FieldSpec {
  return FIELDS[key];
}

export function isConfigKey(k: string): k is ConfigKey {
  return Object.prototype.hasOwnProperty.call(FIELDS, k);
}

/** App settings a link may carry besides the config. */
export const APP_PARAMS = ['thread'] as const;

/** A value of the form or of a link before `resolveConfig` judges it. */
export type RawConfig = Partial<Record<ConfigKey, unknown>>;

export interface LinkProblem {
  field: ConfigKey | null;
  message: string;
}

export interface ParsedLink {
  config: RawConfig;
  problems: LinkProblem[];
  /** `thread=page`: run on the page instead of a worker (diagnostics). */
  thread: 'page' | null;
  /** `dataHash=…`: the content hash of the user's own dataset the link names (the dataset field names it). */
  dataHash: string | null;
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const NULL_WORDS = new Set(['', 'null', 'none']);
const MAX_VALUE_LENGTH = 300;

/** Quotes a value for a message (messages are shown as text, never as HTML). */
export function quote(v: string): string {
  const short = v.length > 60 ? `${v.slice(0, 57)}…` : v;
  return `'${short}'`;
}

/** Parses one field's text (form input or link value); returns the value or a problem. */
export function parseValue(key: ConfigKey, text: string): { value: unknown } | { problem: string } {
  const spec: FieldSpec = FIELDS[key];
  const t = text.trim();
  switch (spec.kind) {
    case 'dataset':
    case 'model':
      return { value: t };
    case 'backend':
      // Older links wrote null (the environment's default), which 'auto' now is.
      if (NULL_WORDS.has(t) || t === spec.nullToken) return { value: 'auto' };
      return { value: t };
    case 'choice':
      if (spec.nullToken !== undefined && (NULL_WORDS.has(t.toLowerCase()) || t === spec.nullToken)) return { value: null };
      return { value: t };
    case 'strategies':
      return { value: t.split(',').map((x) => x.trim()).filter((x) => x.length > 0) };
    case 'bool':
      if (['true', '1', 'yes', 'on'].includes(t.toLowerCase())) return { value: true };
      if (['false', '0', 'no', 'off'].includes(t.toLowerCase())) return { value: false };
      return { problem: `${spec.label}: ${quote(t)} is not true or false` };
    case 'optInt':
    case 'optNumber':
      if (NULL_WORDS.has(t.toLowerCase()) || t === spec.nullToken) return { value: null };
      return parseNumber(spec, t);
    case 'int':
    case 'number':
      return parseNumber(spec, t);
  }
}

function parseNumber(spec: FieldSpec, t: string): { value: unknown } | { problem: string } {
  if (t === '') return { problem: `${spec.label}: enter a number` };
  if (!NUMBER_RE.test(t)) return { problem: `${spec.label}: ${quote(t)} is not a number` };
  return { value: Number(t) };
}

/** Parses a query string (`location.search`) into raw config values and problems to show. */
export function parseLink(search: string): ParsedLink {
  const params = new URLSearchParams(search);
  const config: RawConfig = {};
  const problems: LinkProblem[] = [];
  let thread: 'page' | null = null;
  let dataHash: string | null = null;
  for (const [key, value] of params) {
    if (key === 'dataHash') {
      // The content hash of the user's own data the link's dataset names (see the page's "Your own data").
      if (/^[0-9a-f]{16,128}$/.test(value)) dataHash = value;
      else problems.push({ field: null, message: `link: dataHash=${quote(value.slice(0, 40))} is not a content hash (16 to 128 lowercase hexadecimal digits); ignored` });
      continue;
    }
    if (key === 'thread') {
      if (value === 'page') thread = 'page';
      else if (value !== 'worker') problems.push({ field: null, message: `link: thread=${quote(value)} is not page or worker; ignored` });
      continue;
    }
    if (!isConfigKey(key)) {
      problems.push({ field: null, message: `link: unknown setting ${quote(key)} ignored` });
      continue;
    }
    if (value.length > MAX_VALUE_LENGTH) {
      problems.push({ field: key, message: `link: the value for ${FIELDS[key].label} is ${value.length} characters long; ignored` });
      continue;
    }
    const parsed = parseValue(key, value);
    if ('problem' in parsed) problems.push({ field: key, message: `link: ${parsed.problem}; ignored` });
    else config[key] = parsed.value;
  }
  return { config, problems, thread, dataHash };
}

/** Formats one value for a link. */
export function formatValue(key: ConfigKey, value: unknown): string {
  const spec: FieldSpec = FIELDS[key];
  if (value === null || value === undefined) return spec.nullToken ?? '';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** The query string (with '?') that reproduces `config`; every field is written, so a link survives changed defaults. */
export function linkQuery(config: ExperimentConfig, extra: Record<string, string> = {}): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%2C/g, ',');
  const parts = FIELD_KEYS.map((k) => `${k}=${enc(formatValue(k, config[k]))}`);
  for (const [k, v] of Object.entries(extra)) parts.push(`${enc(k)}=${enc(v)}`);
  return `?${parts.join('&')}`;
}
