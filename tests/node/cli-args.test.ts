/** The CLI's flags, in-process: every config field has one, --help lists them all, bad values are named. */
import { describe, expect, it } from 'vitest';
import { CONFIG_FLAGS, FLAGS, flagHelpLines, flagName, helpText, parseArgs, DATA_FLAGS, RUN_FLAGS, UsageError } from '../../src/cli/args.ts';
import { PRESETS } from '../../src/cli/presets.ts';
import { DEFAULT_CONFIG, resolveConfig, trainingEpochs, type ExperimentConfig } from '../../src/engine/config.ts';

const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof ExperimentConfig)[];

/** A value the parser accepts for a flag of this config field, and what it must become. */
function sample(key: keyof ExperimentConfig): [raw: string, value: unknown] {
  const d = DEFAULT_CONFIG[key];
  if (typeof d === 'boolean') return [String(!d), !d];
  if (Array.isArray(d)) return ['random,entropy', ['random', 'entropy']];
  if (typeof d === 'number') return [String(d + 3), d + 3];
  if (typeof d === 'string') return ['something', 'something'];
  // null by default: a mode (stochastic) or a number (learning rate).
  if (key === 'stochastic') return ['softrank', 'softrank'];
  return key === 'backend' ? ['cpu', 'cpu'] : ['0.25', 0.25];
}

describe('flags', () => {
  it.each(CONFIG_KEYS)('config field %s has a flag that sets it', (key) => {
    const name = flagName(key);
    const flag = FLAGS.get(name);
    expect(flag, `config field ${key} has no flag ${name}`).toBeDefined();
    expect(flag!.key).toBe(key);
    const [raw, value] = sample(key);
    const opts = parseArgs([name, raw]);
    expect(opts.config).toEqual({ [key]: value });
    expect(opts.given).toEqual([key]);
    expect(parseArgs([`${name}=${raw}`]).config).toEqual({ [key]: value });
  });

  it('every flag is a config field or a run flag, and the tables agree on the count', () => {
    const keys = new Set<string>([...CONFIG_KEYS, ...Object.keys(RUN_FLAGS)]);
    for (const [name, flag] of FLAGS) {
      expect(keys.has(flag.key), `${name} sets ${flag.key}`).toBe(true);
      expect(name).toBe(flagName(flag.key));
    }
    expect(FLAGS.size).toBe(CONFIG_KEYS.length + Object.keys(RUN_FLAGS).length);
    expect(Object.keys(CONFIG_FLAGS).sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('--stochastic none is top-k (null); --stochastic power --stochastic-beta 2 and --committee 4 reach a resolved config', () => {
    expect(parseArgs(['--stochastic', 'none']).config).toEqual({ stochastic: null });
    const c = resolveConfig(parseArgs(['--stochastic', 'power', '--stochastic-beta', '2', '--committee', '4', '--strategies', 'bald,batchBald,random']).config);
    expect([c.stochastic, c.stochasticBeta, c.committee]).toEqual(['power', 2, 4]);
  });

  it('the new flags --learning-rate and --chunk-size reach a resolved config', () => {
    const c = resolveConfig(parseArgs(['--learning-rate', '0.005', '--chunk-size', '64']).config);
    expect(c.learningRate).toBe(0.005);
    expect(c.chunkSize).toBe(64);
    expect(resolveConfig(parseArgs(['--learning-rate', 'default']).config).learningRate).toBeNull();
  });

  it('--help lists exactly the flags of the table, each with its help and the default from DEFAULT_CONFIG', () => {
    const help = helpText();
    const lines = help.split('\n');
    for (const line of flagHelpLines()) expect(lines).toContain(line);
    const start = lines.indexOf('Flags:');
    const end = lines.indexOf('', start);
    const listed = lines.slice(start + 1, end).map((l) => /^ {2}(--[a-z-]+)/.exec(l)?.[1]);
    expect(listed).toEqual([...FLAGS.keys()]);
    for (const [name, flag] of FLAGS) {
      const line = lines.find((l) => l.startsWith(`  ${name} `) || l === `  ${name}`)!;
      expect(line).toContain(flag.help);
      if (!flag.config) continue;
      const d = DEFAULT_CONFIG[flag.key as keyof ExperimentConfig];
      const shown = flag.defaultText ?? (d === null ? flag.nullWord : Array.isArray(d) ? d.join(',') : String(d));
      expect(line, name).toContain(`(default ${shown})`);
    }
    expect(help).toContain('gal2017');
  });

  it.each([
    [['--balanced', 'false'], { balanced: false }],
    [['--balanced=false'], { balanced: false }],
    [['--balanced'], { balanced: true }],
    [['--balanced', 'true', '--warm-start'], { balanced: true, warmStart: true }],
    [['--seed', '-1'], { seed: -1 }],
    [['--rounds=3'], { rounds: 3 }],
    [['--pool-subset', 'all', '--test-subset', 'all'], { poolSubset: null, testSubset: null }],
    [['--strategies', ' bald, entropy ,'], { strategies: ['bald', 'entropy'] }],
    [['--target', '0.75'], { target: 0.75 }],
  ])('%j parses to %j', (argv, config) => {
    expect(parseArgs(argv).config).toEqual(config);
  });

  it.each(Object.keys(RUN_FLAGS) as (keyof typeof RUN_FLAGS)[])('run flag --%s sets the option of its name', (key) => {
    const kind: string = RUN_FLAGS[key].kind;
    const raw = kind === 'bool' ? 'true' : kind === 'int' ? '3' : kind === 'number' ? '0.5' : key === 'preset' ? 'gal2017' : key === 'imageSize' ? '32x32x3' : 'some/value.json';
    // --data's companions go with --data.
    const data = key !== 'data' && (DATA_FLAGS as readonly string[]).includes(flagName(key)) ? ['--data', 'some/folder'] : [];
    expect(parseArgs([...data, flagName(key), raw])[key]).toBe(kind === 'bool' ? true : kind === 'int' ? 3 : kind === 'number' ? 0.5 : raw);
  });

  it('-h and --help ask for help; --out is kept and marked as given', () => {
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs([]).help).toBe(false);
    expect(parseArgs([])).toMatchObject({ out: 'results/run.json', outGiven: false, resume: null, preset: null });
    expect(parseArgs(['--out', 'x/y.json'])).toMatchObject({ out: 'x/y.json', outGiven: true });
  });

  it('a preset fills the config and flags given beside it override it; only the flags count as given', () => {
    const opts = parseArgs(['--preset', 'gal2017', '--rounds', '3']);
    expect(opts.config).toEqual({ ...PRESETS.gal2017.config, rounds: 3 });
    expect(opts.given).toEqual(['rounds']);
    expect(opts.preset).toBe('gal2017');
  });

  it.each(Object.keys(PRESETS) as (keyof typeof PRESETS)[])('preset %s resolves to a valid configuration', (name) => {
    expect(() => resolveConfig(PRESETS[name].config)).not.toThrow();
    expect(resolveConfig(parseArgs(['--preset', name]).config)).toEqual(resolveConfig(PRESETS[name].config));
  });

  it('kirsch2019 is the BatchBALD paper\'s MNIST setup, as far as 2 cores allow (README, "--preset kirsch2019")', () => {
    const c = resolveConfig(parseArgs(['--preset', 'kirsch2019']).config);
    // As the paper: MNIST, 2 initial images per class, acquisition size 10, their CNN, 1,024 validation rows, BatchBALD vs BALD vs random.
    expect(c).toMatchObject({ dataset: 'mnist', model: 'kirschCnn', initial: 20, balanced: true, query: 10, validation: 1024, batchSize: 64, target: 0.9, testSubset: null });
    expect(c.strategies).toEqual(['batchBald', 'bald', 'random']);
    // Up to 290 labels, the last evaluation of their runs (they stop once 300 are acquired).
    expect(c.initial + c.rounds * c.query).toBe(290);
    // The deviations the README lists: T = 20 passes (not 100), a 500-row pool subset, and about 100 steps
    // of 64 a round in place of their early-stopped epochs of 5,056 samples.
    expect(c.mcSamples).toBe(20);
    expect(c.poolSubset).toBe(500);
    expect([20, 100, 290].map((labeled) => trainingEpochs(labeled, c) * Math.ceil(labeled / c.batchSize))).toEqual([100, 100, 100]);
    expect(parseArgs(['--preset', 'kirsch2019', '--mc-samples', '100']).config.mcSamples).toBe(100);
  });

  it('--resume goes with --backend and --out only', () => {
    expect(parseArgs(['--resume', 'a.json', '--backend', 'cpu', '--out', 'b.json'])).toMatchObject({ resume: 'a.json', out: 'b.json', config: { backend: 'cpu' } });
  });

  it.each([
    [['--rounds', 'x'], "--rounds takes a whole number, got 'x'"],
    [['--rounds', '1.5'], "--rounds takes a whole number, got '1.5'"],
    [['--rounds', '99999999999999999999'], "--rounds takes a whole number, got '99999999999999999999'"],
    [['--pool-subset', 'some'], "--pool-subset takes a whole number or 'all', got 'some'"],
    [['--learning-rate', 'fast'], "--learning-rate takes a number or 'default', got 'fast'"],
    [['--target', ''], "--target takes a number, got ''"],
    [['--balanced=maybe'], "--balanced takes true or false, got 'maybe'"],
    [['--strategies', ','], "--strategies needs a comma-separated list, got ','"],
    [['--frobnicate'], 'unknown flag --frobnicate; known flags: --preset, --dataset'],
    [['--frobnicate=1'], 'unknown flag --frobnicate; known flags: --preset, --dataset'],
    [['-x'], "unexpected argument '-x'; flags take the form --name value"],
    [['-rounds', '3'], "unexpected argument '-rounds'; flags take the form --name value"],
    [['mnist'], "unexpected argument 'mnist'; flags take the form --name value"],
    [['--', 'x'], "unexpected argument '--'; flags take the form --name value"],
    [['--out'], '--out needs a value: results JSON path'],
    [['--out', '--help'], '--out needs a value: results JSON path'],
    [['--dataset'], `--dataset needs a value: ${CONFIG_FLAGS.dataset.help}`],
    [['--preset', 'gal2018'], "unknown preset 'gal2018'; known presets: gal2017, kirsch2019"],
    [['--resume', 'a.json', '--seed', '6'], '--resume takes the configuration from a.json; --seed cannot be given with it (only --backend, --jobs, --out and --save-models)'],
    [['--resume', 'a.json', '--preset', 'gal2017', '--pool-subset', '5'], '--resume takes the configuration from a.json; --preset, --pool-subset cannot be given with it'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('the unknown-flag message lists every flag', () => {
    expect(() => parseArgs(['--nope'])).toThrow(`known flags: ${[...FLAGS.keys()].join(', ')}`);
  });
});
