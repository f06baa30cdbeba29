/**
 * Command-line flags of `npm run experiment`, parsed into a config. A bad flag or value throws
 * `UsageError` (exit code 2) with a message that names the flag, the value and what is allowed.
 */
import { DATASET_NAMES } from '../../datasets/catalog.ts';
import { MODEL_CATALOG as MODELS } from '../../models/catalog.ts';
import { STRATEGY_NAMES } from '../acquisition/catalog.ts';
import { BACKEND_NAMES } from '../backend/catalog.ts';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../engine/config.ts';
import { PRESETS, PRESET_NAMES } from './presets.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list' | 'intOrAll';
interface Flag {
  key: keyof ExperimentConfig | 'out' | 'preset' | 'resume' | 'help';
  kind: Kind;
  help: string;
}

const d = DEFAULT_CONFIG;
export const FLAGS: Record<string, Flag> = {
  '--preset': { key: 'preset', kind: 'string', help: `a named setup (${PRESET_NAMES.join(', ')}); other flags override it` },
  '--dataset': { key: 'dataset', kind: 'string', help: `${DATASET_NAMES.join(' | ')} (default ${d.dataset})` },
  '--model': { key: 'model', kind: 'string', help: `${Object.keys(MODELS).join(' | ')} (default ${d.model})` },
  '--strategies': { key: 'strategies', kind: 'list', help: `comma-separated, from: ${STRATEGY_NAMES.join(', ')} (default ${d.strategies.join(',')})` },
  '--initial': { key: 'initial', kind: 'int', help: `initial labeled set size (default ${d.initial})` },
  '--balanced': { key: 'balanced', kind: 'bool', help: `initial set balanced per class; --balanced=false draws it at random (default ${d.balanced})` },
  '--query': { key: 'query', kind: 'int', help: `labels queried per round (default ${d.query})` },
  '--rounds': { key: 'rounds', kind: 'int', help: `acquisition rounds after the initial training (default ${d.rounds})` },
  '--repeats': { key: 'repeats', kind: 'int', help: `repeats per strategy, each with its own initial set (default ${d.repeats})` },
  '--epochs': { key: 'epochs', kind: 'int', help: `training epochs per round (default ${d.epochs})` },
  '--pool-subset': { key: 'poolSubset', kind: 'intOrAll', help: `score a random subset of this many unlabeled rows per round, or 'all' (default ${d.poolSubset})` },
  '--mc-samples': { key: 'mcSamples', kind: 'int', help: `MC-dropout passes T for bald, predictiveEntropy, variationRatio, meanStd (default ${d.mcSamples})` },
  '--target': { key: 'target', kind: 'number', help: `test accuracy for the "labels to target" column, in (0, 1] (default ${d.target})` },
  '--test-subset': { key: 'testSubset', kind: 'intOrAll', help: `evaluate on a fixed seeded subset of the test set, or 'all' (default ${d.testSubset})` },
  '--validation': { key: 'validation', kind: 'int', help: `rows held out of the pool as validation (default ${d.validation})` },
  '--batch-size': { key: 'batchSize', kind: 'int', help: `training batch size (default ${d.batchSize})` },
  '--warm-start': { key: 'warmStart', kind: 'bool', help: `keep the weights between rounds instead of retraining from scratch (default ${d.warmStart})` },
  '--calibrate': { key: 'calibrate', kind: 'bool', help: `temperature-scale the probabilities each round on the validation rows (needs --validation) and score the calibrated ones; ECE is reported either way (default ${d.calibrate})` },
  '--seed': { key: 'seed', kind: 'int', help: `seed of every random choice (default ${d.seed})` },
  '--backend': { key: 'backend', kind: 'string', help: `${BACKEND_NAMES.filter((b) => b !== 'webgl').join(' | ')} (default wasm; webgl exists only in the browser)` },
  '--resume': { key: 'resume', kind: 'string', help: 'continue the run whose results JSON this is (a stopped or failed run): its completed rounds are kept and its configuration used; only --backend and --out may be given with it (--out defaults to the same file)' },
  '--out': { key: 'out', kind: 'string', help: 'results JSON path; the CSV and SVG chart are written beside it (default results/run.json)' },
  '--help': { key: 'help', kind: 'bool', help: 'show this help' },
};

export interface CliOptions {
  config: Partial<ExperimentConfig>;
  /** The config fields given as flags (not from a preset). */
  given: (keyof ExperimentConfig)[];
  out: string;
  /** Whether --out was given (with --resume it defaults to the resumed file). */
  outGiven: boolean;
  /** --resume: the results JSON of the run to continue. */
  resume: string | null;
  preset: string | null;
  help: boolean;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const given: Partial<Record<string, unknown>> = {};
  let out = 'results/run.json';
  let outGiven = false;
  let resume: string | null = null;
  let preset: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') { help = true; continue; }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS[name];
    if (!flag) {
      const known = Object.keys(FLAGS).join(', ');
      throw new UsageError(arg.startsWith('--') ? `unknown flag ${name}; known flags: ${known}` : `unexpected argument '${arg}'; flags take the form --name value`);
    }
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (flag.kind === 'bool') {
      if (raw === undefined && (argv[i + 1] === 'true' || argv[i + 1] === 'false')) raw = argv[++i];
      if (raw === undefined) raw = 'true';
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`${name} takes true or false, got '${raw}'`);
    } else if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined || raw.startsWith('--')) throw new UsageError(`${name} needs a value: ${flag.help}`);
    }
    const value = convert(name, flag.kind, raw);
    if (flag.key === 'out') {
      out = value as string;
      outGiven = true;
    } else if (flag.key === 'resume') resume = value as string;
    else if (flag.key === 'preset') preset = value as string;
    else if (flag.key === 'help') help = value as boolean;
    else given[flag.key] = value;
  }
  let config: Partial<ExperimentConfig> = {};
  if (preset !== null) {
    const p = PRESETS[preset as keyof typeof PRESETS];
    if (!p) throw new UsageError(`unknown preset '${preset}'; known presets: ${PRESET_NAMES.join(', ')}`);
    config = { ...p.config };
  }
  if (resume !== null) {
    const extra = [...(preset !== null ? ['--preset'] : []), ...Object.keys(given).filter((k) => k !== 'backend').map(flagOf)];
    if (extra.length > 0) {
      throw new UsageError(`--resume takes the configuration from ${resume}; ${extra.join(', ')} cannot be given with it (only --backend and --out)`);
    }
  }
  return { config: { ...config, ...(given as Partial<ExperimentConfig>) }, given: Object.keys(given) as (keyof ExperimentConfig)[], out, outGiven, resume, preset, help };
}

function flagOf(key: string): string {
  return Object.entries(FLAGS).find(([, f]) => f.key === key)?.[0] ?? key;
}

function convert(name: string, kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'bool':
      return raw === 'true';
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) throw new UsageError(`${name} needs a comma-separated list, got '${raw}'`);
      return items;
    }
    case 'intOrAll':
    case 'int': {
      if (kind === 'intOrAll' && raw === 'all') return null;
      const v = Number(raw);
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(v)) throw new UsageError(`${name} takes a whole number${kind === 'intOrAll' ? " or 'all'" : ''}, got '${raw}'`);
      return v;
    }
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${name} takes a number, got '${raw}'`);
      return v;
    }
  }
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
    ...Object.entries(FLAGS).map(([f, { kind, help }]) => `  ${(f + (kind === 'bool' ? '' : ' <value>')).padEnd(24)} ${help}`),
    '',
    'Presets:',
    ...Object.entries(PRESETS).map(([n, p]) => `  ${n.padEnd(24)} ${p.description}`),
    '',
    'Example:',
    '  npm run experiment -- --dataset mnist --model cnn --strategies bald,entropy,margin,random \\',
    '    --initial 20 --query 10 --rounds 20 --repeats 3 --seed 1 --out results/run.json',
    '',
    'Exit codes: 0 done, 1 the run failed (completed rounds are still written), 2 bad flags or config.',
  ];
  return lines.join('\n');
}
