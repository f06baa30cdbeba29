/**
 * Command-line flags of `npm run experiment`, parsed into a config. A bad flag or value throws
 * `UsageError` (exit code 2) with a message that names the flag, the value and what is allowed.
 *
 * Tokenizing is node's `util.parseArgs` (no dependency; commander would bring its own messages,
 * help layout and process.exit calls that we would have to override one by one). It runs in its
 * non-strict token mode so that today's forms keep working: `--balanced false` and `--balanced=false`
 * (node 20 has no `--no-x`), negative numbers as values (`--seed -1`), and our own messages for an
 * unknown flag or a missing value. This module only checks and converts each token.
 *
 * Every `ExperimentConfig` field has a flag: `CONFIG_FLAGS` is typed by the config's keys, so a new
 * field without a flag does not compile, and `tests/node/cli-args.test.ts` checks it against
 * `DEFAULT_CONFIG`'s keys.
 */
import { parseArgs as tokenize } from 'node:util';
import { DATASET_NAMES } from '../../datasets/catalog.ts';
import { parseImageSize } from '../../datasets/user/pixels.ts';
import { MODEL_CATALOG as MODELS } from '../../models/catalog.ts';
import { STOCHASTIC_MODES, STRATEGY_NAMES } from '../acquisition/catalog.ts';
import { BACKEND_CHOICES } from '../backend/catalog.ts';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../engine/config.ts';
import { STOP_WHEN } from '../engine/stopping.ts';
import { PRESETS, PRESET_NAMES } from './presets.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * How a flag's value is read: `int`/`number` optionally take a word meaning null (`all` for the
 * subsets, `default` for the learning rate); `bool` flags may stand alone (true).
 */
type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';
export interface FlagSpec {
  kind: Kind;
  help: string;
  /** The word that stands for null (int and number flags whose config field may be null). */
  nullWord?: 'all' | 'default' | 'none';
  /** Replaces the "(default …)" that --help derives from DEFAULT_CONFIG. */
  defaultText?: string;
}

/** One flag per config field, named by the field in kebab case (`poolSubset` -> `--pool-subset`). */
export const CONFIG_FLAGS: { readonly [K in keyof ExperimentConfig]: FlagSpec } = {
  dataset: { kind: 'string', help: DATASET_NAMES.join(' | ') },
  model: { kind: 'string', help: Object.keys(MODELS).join(' | ') },
  strategies: { kind: 'list', help: `comma-separated, from: ${STRATEGY_NAMES.join(', ')}` },
  initial: { kind: 'int', help: 'initial labeled set size' },
  balanced: { kind: 'bool', help: 'initial set balanced per class; --balanced=false draws it at random' },
  query: { kind: 'int', help: 'labels queried per round' },
  rounds: { kind: 'int', help: 'acquisition rounds after the initial training' },
  repeats: { kind: 'int', help: 'repeats per strategy, each with its own initial set' },
  epochs: { kind: 'int', help: 'training epochs per round (at least; see --min-steps)' },
  minSteps: { kind: 'int', help: 'at least this many optimizer steps per round: small labeled sets train more epochs, max(epochs, ceil(min-steps / batches per epoch)); 0 = --epochs only' },
  batchSize: { kind: 'int', help: 'training batch size' },
  learningRate: { kind: 'number', nullWord: 'default', help: "Adam learning rate, in (0, 10), or 'default' for the model's own", defaultText: "the model's own" },
  poolSubset: { kind: 'int', nullWord: 'all', help: "score a random subset of this many unlabeled rows per round, or 'all'" },
  mcSamples: { kind: 'int', help: 'MC-dropout passes T for bald, batchBald, predictiveEntropy, variationRatio, meanStd' },
  committee: { kind: 'int', help: 'committee members M (at least 2) trained each round for voteEntropy, consensusEntropy, maxDisagreement' },
  stochastic: {
    kind: 'string', nullWord: 'none',
    help: `${STOCHASTIC_MODES.join(' | ')} | none: scoring strategies draw their batch from the scores (p ∝ s^β, exp(β s), rank^-β; Kirsch et al. 2023) instead of taking the top k; set strategies are unaffected`,
  },
  stochasticBeta: { kind: 'number', help: 'coldness β >= 0 of --stochastic (0: uniform; larger: closer to top-k)' },
  validation: { kind: 'int', help: 'rows held out of the pool as validation' },
  testSubset: { kind: 'int', nullWord: 'all', help: "evaluate on a fixed seeded subset of the test set, or 'all'" },
  target: { kind: 'number', help: 'test accuracy for the "labels to target" column, in (0, 1]' },
  warmStart: { kind: 'bool', help: 'keep the weights between rounds instead of retraining from scratch' },
  calibrate: {
    kind: 'bool',
    help: 'temperature-scale the probabilities each round on the validation rows (needs --validation) and score the calibrated ones; ECE is reported either way',
  },
  chunkSize: { kind: 'int', help: 'rows per forward pass when predicting' },
  stopSet: { kind: 'int', help: 'unlabeled rows of the stop set the stopping advice is computed on each round; 0 for no advice' },
  stopWhen: { kind: 'string', help: `end each run when a stopping criterion holds: ${STOP_WHEN.join(' | ')}` },
  oracleNoise: { kind: 'number', help: "fraction in [0, 1) of the simulated oracle's answers replaced by a uniformly drawn other class (seeded)" },
  seed: { kind: 'int', help: 'seed of every random choice' },
  backend: {
    kind: 'string',
    help: `${BACKEND_CHOICES.filter((b) => b !== 'webgl' && b !== 'webgpu').join(' | ')}; auto is wasm in Node (webgl and webgpu exist only in the browser)`,
  },
};

/**
 * Flags that are not config fields; each sets the `RunOptions` field of its name. A new one (say
 * `--jobs`) is one entry here, one field in `RunOptions` with its default in `parseArgs` and, if it
 * names an output, one entry in `plannedOutputs` (outputs.ts).
 */
export const RUN_FLAGS = {
  preset: { kind: 'string', help: `a named setup (${PRESET_NAMES.join(', ')}); other flags override it` },
  resume: {
    kind: 'string',
    help: 'continue the run whose results JSON or journal (<out>.journal.jsonl, left by a run that was killed) this is: its completed rounds are kept and its configuration (and shard) used; only --backend, --jobs, --out and --save-models may be given with it (--out defaults to the results file)',
  },
  jobs: {
    kind: 'int',
    help: 'worker processes that run the (strategy, repeat) cells side by side, at most one per cell (default: the number of cores, os.availableParallelism()); 1 runs them in this process. Results do not depend on it',
  },
  shard: {
    kind: 'string',
    help: 'I/N: run only shard I (0 to N-1) of N: the cells whose index (repeat by repeat, strategies in order) is I mod N, for a job array; env/N reads I from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID. Merge the shards with npm run merge',
  },
  out: {
    kind: 'string',
    help: 'results JSON path; the CSV, the SVG chart and, while it runs, the journal of completed rounds (<out>.journal.jsonl) are written beside it (default results/run.json). Checked before any work: missing folders are created, and a path that cannot be written is refused',
  },
  saveModels: {
    kind: 'string',
    help: 'write the final model of every run finished here as TensorFlow.js files, DIR/<strategy>-r<repeat>/model.json + weights.bin (load with tf.loadLayersModel). Checked before any work like --out',
  },
  data: {
    kind: 'string',
    help: 'train on your own data instead of --dataset: a folder with one subfolder of PNG, JPEG or WebP images per class, or a CSV/TSV table of numeric feature columns and a label column (README, "Your own data")',
  },
  test: { kind: 'string', help: 'with --data: a separate test folder or table of the same kind (default: hold --test-fraction of --data out)' },
  testFraction: { kind: 'number', help: 'with --data and no --test: the share of each class held out as the test set, seeded (default 0.2)' },
  labelColumn: { kind: 'string', help: "with a table: the label column's header name (default: a column named label, class, target or y, else the last)" },
  imageSize: { kind: 'string', help: 'with an image folder: HEIGHTxWIDTHxCHANNELS every image is resized to, 1 channel = luminance (default 28x28x1)' },
  strict: { kind: 'bool', help: 'with --data: refuse the data when a file is skipped (not an image, cannot be decoded) instead of warning' },
  maxImages: { kind: 'int', help: 'with --data: the most images (or table rows) read (default 100000)' },
  maxMb: { kind: 'number', help: 'with --data: the most megabytes of files read (default 500)' },
  help: { kind: 'bool', help: 'show this help (also -h)' },
} as const satisfies Record<string, FlagSpec>;

type RunKey = keyof typeof RUN_FLAGS;

/** `poolSubset` -> `--pool-subset`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

interface Flag extends FlagSpec {
  key: keyof ExperimentConfig | RunKey;
  config: boolean;
}

/** Every flag by its name, in --help order: --preset, the config fields, then the other run flags. */
export const FLAGS: ReadonlyMap<string, Flag> = new Map<string, Flag>([
  ['--preset', { ...RUN_FLAGS.preset, key: 'preset', config: false }],
  ...(Object.entries(CONFIG_FLAGS) as [keyof ExperimentConfig, FlagSpec][]).map(([key, spec]): [string, Flag] => [flagName(key), { ...spec, key, config: true }]),
  ...(Object.entries(RUN_FLAGS) as [RunKey, FlagSpec][]).filter(([key]) => key !== 'preset').map(([key, spec]): [string, Flag] => [flagName(key), { ...spec, key, config: false }]),
]);

export interface RunOptions {
  /** Results JSON path (default results/run.json; with --resume, the resumed file). */
  out: string;
  /** Whether --out was given (with --resume it defaults to the resumed file). */
  outGiven: boolean;
  /** --resume: the results JSON or journal of the run to continue. */
  resume: string | null;
  /** --jobs: worker processes (null: one per core). */
  jobs: number | null;
  /** --shard as given (I/N or env/N), resolved by `parseShard`. */
  shard: string | null;
  preset: string | null;
  /** --save-models: the folder for every run's final model (null: none saved). */
  saveModels: string | null;
  /** --data and its companions: the user's own data (null: the config's built-in dataset). */
  data: string | null;
  test: string | null;
  testFraction: number | null;
  labelColumn: string | null;
  imageSize: string | null;
  strict: boolean;
  maxImages: number | null;
  maxMb: number | null;
  help: boolean;
}

/** The flags that describe `--data` (given again with --resume to find moved data). */
export const DATA_FLAGS = ['--data', '--test', '--test-fraction', '--label-column', '--image-size', '--strict', '--max-images', '--max-mb'] as const;

export interface CliOptions extends RunOptions {
  config: Partial<ExperimentConfig>;
  /** The config fields given as flags (not from a preset). */
  given: (keyof ExperimentConfig)[];
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const options = Object.fromEntries(
    [...FLAGS].map(([name, f]) => [name.slice(2), f.kind === 'bool' ? { type: 'boolean' as const, ...(f.key === 'help' ? { short: 'h' } : {}) } : { type: 'string' as const }]),
  );
  const { tokens } = tokenize({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const given: Partial<Record<keyof ExperimentConfig, unknown>> = {};
  const run: RunOptions = {
    out: 'results/run.json', outGiven: false, resume: null, jobs: null, shard: null, preset: null, saveModels: null,
    data: null, test: null, testFraction: null, labelColumn: null, imageSize: null, strict: false, maxImages: null, maxMb: null, help: false,
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'option-terminator') throw new UsageError(`unexpected argument '--'; flags take the form --name value`);
    if (t.kind === 'positional') throw new UsageError(`unexpected argument '${t.value}'; flags take the form --name value`);
    const name = t.rawName.startsWith('--') ? t.rawName : null;
    const flag = name === null ? (t.rawName === '-h' ? FLAGS.get('--help') : undefined) : FLAGS.get(name);
    if (!flag) {
      const arg = argv[t.index]!;
      throw new UsageError(name !== null ? `unknown flag ${name}; known flags: ${[...FLAGS.keys()].join(', ')}` : `unexpected argument '${arg}'; flags take the form --name value`);
    }
    const shown = name ?? t.rawName;
    let raw = t.value;
    if (flag.kind === 'bool') {
      const next = tokens[i + 1];
      if (raw === undefined && next?.kind === 'positional' && next.index === t.index + 1 && (next.value === 'true' || next.value === 'false')) {
        raw = next.value;
        i++;
      }
      raw ??= 'true';
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`${shown} takes true or false, got '${raw}'`);
    } else if (raw === undefined || (!t.inlineValue && raw.startsWith('--'))) {
      throw new UsageError(`${shown} needs a value: ${flag.help}`);
    }
    const value = convert(shown, flag, raw);
    if (flag.config) given[flag.key as keyof ExperimentConfig] = value;
    else {
      (run as unknown as Record<RunKey, unknown>)[flag.key as RunKey] = value;
      if (flag.key === 'out') run.outGiven = true;
    }
  }
  if (run.jobs !== null && run.jobs < 1) throw new UsageError(`--jobs takes a whole number of worker processes, at least 1, got '${run.jobs}'`);
  checkDataFlags(run, Object.hasOwn(given, 'dataset'));
  let config: Partial<ExperimentConfig> = {};
  if (run.preset !== null) {
    const p = PRESETS[run.preset as keyof typeof PRESETS];
    if (!p) throw new UsageError(`unknown preset '${run.preset}'; known presets: ${PRESET_NAMES.join(', ')}`);
    config = { ...p.config };
  }
  const givenKeys = Object.keys(given) as (keyof ExperimentConfig)[];
  if (run.resume !== null) {
    const extra = [...(run.preset !== null ? ['--preset'] : []), ...givenKeys.filter((k) => k !== 'backend').map(flagName), ...(run.shard !== null ? ['--shard'] : [])];
    if (run.test !== null || run.testFraction !== null || run.labelColumn !== null || run.imageSize !== null) extra.push('--test, --test-fraction, --label-column, --image-size');
    if (extra.length > 0) {
      throw new UsageError(`--resume takes the configuration from ${run.resume}; ${extra.join(', ')} cannot be given with it (only --backend, --jobs, --out and --save-models)`);
    }
  }
  return { ...run, config: { ...config, ...(given as Partial<ExperimentConfig>) }, given: givenKeys };
}

/** The --data flags: companions only with --data, --data not with --dataset, values in range. */
function checkDataFlags(run: RunOptions, datasetGiven: boolean): void {
  if (run.data === null && run.resume === null) {
    const stray = (['test', 'testFraction', 'labelColumn', 'imageSize', 'strict', 'maxImages', 'maxMb'] as const).filter((k) => run[k] !== null && run[k] !== false);
    if (stray.length > 0) throw new UsageError(`${stray.map(flagName).join(', ')} go${stray.length === 1 ? 'es' : ''} with --data (your own folder or table), which is not given`);
  }
  if (run.data !== null && datasetGiven) throw new UsageError('--data and --dataset cannot both be given: --data names your own data, --dataset a built-in one');
  if (run.test !== null && run.testFraction !== null) throw new UsageError('--test and --test-fraction cannot both be given: the test set is either a separate folder or file, or a share held out');
  if (run.testFraction !== null && !(run.testFraction > 0 && run.testFraction < 1)) throw new UsageError(`--test-fraction takes a number between 0 and 1 (exclusive), got '${run.testFraction}'`);
  if (run.maxImages !== null && run.maxImages < 1) throw new UsageError(`--max-images takes a whole number of at least 1, got '${run.maxImages}'`);
  if (run.maxMb !== null && !(run.maxMb > 0)) throw new UsageError(`--max-mb takes a positive number of megabytes, got '${run.maxMb}'`);
  if (run.imageSize !== null) {
    const size = parseImageSize(run.imageSize);
    if (typeof size === 'string') throw new UsageError(`--image-size takes ${size}, got '${run.imageSize}'`);
  }
}

function convert(name: string, flag: FlagSpec, raw: string): unknown {
  if (flag.nullWord !== undefined && raw === flag.nullWord) return null;
  const or = flag.nullWord !== undefined ? ` or '${flag.nullWord}'` : '';
  switch (flag.kind) {
    case 'string':
      return raw;
    case 'bool':
      return raw === 'true';
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) throw new UsageError(`${name} needs a comma-separated list, got '${raw}'`);
      return items;
    }
    case 'int': {
      const v = Number(raw);
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(v)) throw new UsageError(`${name} takes a whole number${or}, got '${raw}'`);
      return v;
    }
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${name} takes a number${or}, got '${raw}'`);
      return v;
    }
  }
}

/** "(default …)" for a config flag, read from DEFAULT_CONFIG. */
function defaultOf(key: keyof ExperimentConfig, spec: FlagSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const v = DEFAULT_CONFIG[key];
  if (v === null) return spec.nullWord ?? 'none';
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** The --help line of each flag, in order: the flag with its value placeholder, then its help. */
export function flagHelpLines(): string[] {
  return [...FLAGS].map(([name, f]) => {
    const help = f.config ? `${f.help} (default ${defaultOf(f.key as keyof ExperimentConfig, f)})` : f.help;
    return `  ${(name + (f.kind === 'bool' ? '' : ' <value>')).padEnd(24)} ${help}`;
  });
}

export function helpText(): string {
  const lines = [
    'Usage: npm run experiment -- [flags]',
    '',
    'Runs pool-based active learning headless in Node (wasm backend): for each strategy and repeat,',
    'train on the initial labeled set, then round after round predict the pool, score it, query the',
    'top examples, reveal their labels and retrain. Writes the results as JSON, a CSV of the learning',
    'curves and an SVG chart, and prints a summary table.',
    '',
    'Flags:',
    ...flagHelpLines(),
    '',
    'Presets:',
    ...Object.entries(PRESETS).map(([n, p]) => `  ${n.padEnd(24)} ${p.description}`),
    '',
    'Example:',
    '  npm run experiment -- --dataset mnist --model cnn --strategies bald,entropy,margin,random \\',
    '    --initial 20 --query 10 --rounds 20 --repeats 3 --seed 1 --out results/run.json',
    '  npm run experiment -- --data ~/pets --image-size 32x32x3 --model cnn --strategies entropy,random',
    '  npm run experiment -- --data iris.csv --label-column species --model mlp --initial 6',
    '',
    'Sweeps: the cells run in --jobs worker processes; every completed round goes to the journal',
    'beside the results (fsync\'d), so a run killed at any moment continues with --resume <journal>.',
    'On a cluster, run one --shard I/N per task and join the results files with',
    '  npm run merge -- results/shard-*.json --out results/all.json',
    '',
    'Exit codes: 0 done, 1 the run failed or a cell failed (completed rounds are still written, to a',
    "file in the system's temporary folder if --out can no longer be written), 2 bad flags, config,",
    'output path or --data (named with the file, and the row and column of a table); stopped by a signal: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), after',
    'writing the completed rounds.',
  ];
  return lines.join('\n');
}
