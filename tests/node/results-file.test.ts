/**
 * Reading results files back (src/engine/results-file.ts): a real exported run round-trips; known
 * bad files are refused with a ResultsFileError naming the path, the value and what is allowed;
 * and under fuzzing (random JSON, random mutations of a valid file) the reader either returns a
 * valid result or throws a ResultsFileError, never anything else.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_DATASETS, describeDataset, loadDataset, withDataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import {
  MAX_RESULTS_FILE_BYTES, parseResultsFile, readResultsFile, resolveConfig, ResultsFileError, runExperiment, summarize, validateResults,
  type ExperimentResults,
} from '../../src/engine/index.ts';

let real: ExperimentResults;
/** The app's JSON export format (`JSON.stringify(r, null, 1)`). */
let realText: string;

beforeAll(async () => {
  await useBackend('wasm');
  // Three kinds of strategy (score, baseline, set: no scores), two repeats, calibration on.
  const config = resolveConfig({
    dataset: 'moons', model: 'mlp', strategies: ['entropy', 'random', 'coreset'], initial: 6, query: 4, rounds: 2, repeats: 2,
    epochs: 2, batchSize: 16, poolSubset: 60, testSubset: 50, validation: 20, calibrate: true, seed: 11,
  });
  real = await runExperiment(config, await loadDataset('moons', { seed: config.seed }));
  realText = JSON.stringify(real, null, 1) + '\n';
}, 120_000);

/** A deep copy of the real results as plain JSON data, to mutate. */
const copy = (): Record<string, any> => JSON.parse(realText) as Record<string, any>;

function refusal(input: unknown): ResultsFileError {
  try {
    if (typeof input === 'string') parseResultsFile(input);
    else validateResults(input);
  } catch (err) {
    if (err instanceof ResultsFileError) return err;
    throw new Error(`expected a ResultsFileError, got ${String(err)}`);
  }
  throw new Error('expected a ResultsFileError, but the input was accepted');
}

describe('parseResultsFile: good files', () => {
  it('round-trips a real exported run (text, bytes, with a BOM) to the same results', () => {
    expect(real.status).toBe('complete');
    expect(real.runs).toHaveLength(6);
    expect(real.runs.find((r) => r.strategy === 'coreset')!.rounds[1]!.selectedScores).toBeNull();
    expect(real.runs[0]!.rounds[1]!.calibration).not.toBeNull();
    const expected = JSON.parse(realText) as ExperimentResults;
    expect(parseResultsFile(realText)).toEqual(expected);
    expect(parseResultsFile(new TextEncoder().encode(realText))).toEqual(expected);
    expect(parseResultsFile(new TextEncoder().encode(realText).buffer as ArrayBuffer)).toEqual(expected);
    expect(parseResultsFile('\ufeff' + JSON.stringify(real))).toEqual(expected);
    // The exported object is, in turn, what the engine produced.
    expect(parseResultsFile(realText)).toEqual(JSON.parse(JSON.stringify(real)));
  });

  it('keeps only the known fields and none of the input prototype', () => {
    const f = copy();
    f.extra = 'dropped';
    f.runs[0].rounds[0].note = 'dropped too';
    const text = JSON.stringify(f).replace('{"version"', '{"__proto__":{"polluted":true},"version"');
    const r = parseResultsFile(text) as unknown as Record<string, unknown>;
    expect(r.extra).toBeUndefined();
    expect('note' in (r.runs as { rounds: object[] }[])[0]!.rounds[0]!).toBe(false);
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("accepts backend 'auto' with how it was resolved, and older files: backend null, no backendChoice", () => {
    const choice = {
      requested: 'auto', picked: 'wasm', reason: 'at least 24x faster than WebGL here, which is CPU-emulated (SwiftShader)', cached: true,
      timings: [
        { backend: 'wasm', ms: 120, complete: true, warmupMs: 300, stepMs: 30, predictMs: 30, timedOutAfterMs: null, renderer: null, error: null },
        { backend: 'webgl', ms: 0, complete: false, warmupMs: 5000, stepMs: null, predictMs: null, timedOutAfterMs: 5000, renderer: 'ANGLE (SwiftShader)', error: null },
      ],
    };
    const f = copy();
    f.config.backend = 'auto';
    f.environment.backendChoice = choice;
    const r = parseResultsFile(JSON.stringify(f));
    expect(r.config.backend).toBe('auto');
    expect(r.environment.backendChoice).toEqual(choice);
    const old = copy();
    old.config.backend = null;
    const o = parseResultsFile(JSON.stringify(old));
    expect(o.config.backend).toBe('auto');
    expect('backendChoice' in o.environment).toBe(false);
  });

  it('accepts an aborted run cut short, and validates objects read back from storage', () => {
    const f = copy();
    f.status = 'aborted';
    f.runs[5].status = 'aborted';
    f.runs[5].rounds = f.runs[5].rounds.slice(0, 1);
    const r = validateResults(f);
    expect(r.runs[5]!.rounds).toHaveLength(1);
    // Its summary is that of the runs it has now, not the one the file carries.
    expect(r.summary).toEqual(summarize(r.runs, r.config.target));
    expect(r.summary).not.toEqual(real.summary);
  });

  it('recomputes the summary from the runs: a summary that contradicts them is never shown', () => {
    const f = copy();
    f.summary[0].finalAccuracy.mean = 0.999;
    f.summary[0].alc = 0.001;
    f.summary[1].labelsToTarget.perRepeat = [2, 3];
    f.summary = f.summary.slice(0, 2);
    const r = validateResults(f);
    expect(r.summary).toEqual(summarize(r.runs, r.config.target));
    expect(r.summary).toEqual(JSON.parse(JSON.stringify(real.summary)));
    expect(r.summary.map((s) => s.strategy)).toEqual(['entropy', 'random', 'coreset']);
  });

  it('checks a run on a dataset described at run time against that description, as for a built-in one', () => {
    // The same rows, described as a dataset of 50 training rows: indices past 49 are refused.
    const small = describeDataset({ name: 'moons-50', kind: 'points', shape: [2], classNames: ['outer', 'inner'], sizes: { train: 50, test: 200 }, hash: '00112233445566778899' });
    const datasets = withDataset(BUILTIN_DATASETS, small);
    const f = copy();
    f.config.dataset = 'moons-50';
    expect(() => validateResults(f)).toThrow(/^results\.config\.dataset = 'moons-50' is not allowed: one of mnist, fashion-mnist, moons, blobs, classification$/);
    let message = '';
    try {
      validateResults(f, { datasets });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^results\.runs\[\d+\]\.rounds\[\d+\]\.selected\[\d+\] = \d+ is not allowed: an integer from 0 to 49$/);
    // With every index inside it (each run labels rows 0, 1, 2, ... in turn), the same file passes.
    for (const run of f.runs) {
      let next = 0;
      for (const r of run.rounds) r.selected = r.selected.map(() => next++);
    }
    expect(validateResults(f, { datasets }).config.dataset).toBe('moons-50');
  });
});

describe('files written before committee, stochastic, stochasticBeta and minSteps existed', () => {
  it('read as those fields\' defaults, which reproduce what they ran; any other missing field is still refused', () => {
    const f = copy();
    for (const k of ['committee', 'stochastic', 'stochasticBeta', 'minSteps']) delete f.config[k];
    const r = validateResults(f);
    expect([r.config.committee, r.config.stochastic, r.config.stochasticBeta, r.config.minSteps]).toEqual([3, null, 1, 0]);
    delete f.config.epochs;
    expect(() => validateResults(f)).toThrow('results.config.epochs is missing: every configuration field, as exported');
  });
});

describe('parseResultsFile: bad files name the path, the value and what is allowed', () => {
  const cases: [string, (f: Record<string, any>) => unknown, string | RegExp][] = [
    ['wrong version', (f) => { f.version = 2; }, "results.version = 2 is not allowed: 1 (the only results format so far)"],
    ['missing version', (f) => { delete f.version; }, 'results.version is missing: 1 (the only results format so far)'],
    ['not an object', () => [1, 2], 'results = an array of 2 is not allowed: an object'],
    ['config refused by resolveConfig', (f) => { f.config.rounds = -1; }, 'results.config.rounds = -1 is not allowed: an integer from 0 to 100000'],
    ['config unknown dataset', (f) => { f.config.dataset = 'imagenet'; }, /^results\.config\.dataset = 'imagenet' is not allowed: one of mnist, /],
    ['config field missing', (f) => { delete f.config.seed; }, 'results.config.seed is missing: every configuration field, as exported'],
    ['config unknown field', (f) => { f.config.colour = 'red'; }, /^results\.config\.colour = 'red' is not allowed: unknown field/],
    ['accuracy as a string', (f) => { f.runs[1].rounds[2].accuracy = '0.9'; }, "results.runs[1].rounds[2].accuracy = '0.9' is not allowed: a finite number in [0, 1]"],
    ['accuracy above 1', (f) => { f.runs[0].rounds[0].accuracy = 1.5; }, 'results.runs[0].rounds[0].accuracy = 1.5 is not allowed: a finite number in [0, 1]'],
    ['non-finite loss (null in JSON)', (f) => { f.runs[0].rounds[1].loss = null; }, 'results.runs[0].rounds[1].loss = null is not allowed: a finite number at least 0'],
    ['index out of range', (f) => { f.runs[0].rounds[1].selected[0] = 999_999; }, /^results\.runs\[0\]\.rounds\[1\]\.selected\[0\] = 999999 is not allowed: an integer from 0 to \d+$/],
    ['negative index', (f) => { f.runs[0].rounds[1].selected[2] = -1; }, /^results\.runs\[0\]\.rounds\[1\]\.selected\[2\] = -1 is not allowed: an integer from 0 to/],
    ['fractional index', (f) => { f.runs[0].rounds[0].selected[0] = 1.5; }, /selected\[0\] = 1\.5 is not allowed: an integer/],
    ['index labeled twice', (f) => { f.runs[0].rounds[1].selected[0] = f.runs[0].rounds[0].selected[0]; }, /^results\.runs\[0\]\.rounds\[1\]\.selected\[0\] = \d+ is not allowed: an index not labeled before in this run$/],
    ['unknown strategy', (f) => { f.runs[0].strategy = 'oracle'; }, "results.runs[0].strategy = 'oracle' is not allowed: one of entropy, random, coreset"],
    ['repeat out of range', (f) => { f.runs[0].repeat = 5; }, 'results.runs[0].repeat = 5 is not allowed: an integer from 0 to 1'],
    ['run listed twice', (f) => { f.runs[1] = f.runs[0]; }, /^results\.runs\[1\]\.repeat = 0 is not allowed: a repeat of entropy not listed before$/],
    ['rounds out of order', (f) => { f.runs[0].rounds[1].round = 2; }, 'results.runs[0].rounds[1].round = 2 is not allowed: 1: rounds are numbered 0, 1, 2, … in order'],
    ['labeled inconsistent', (f) => { f.runs[0].rounds[1].labeled = 100; }, 'results.runs[0].rounds[1].labeled = 100 is not allowed: 10: the number of indices selected and not skipped so far in this run'],
    ['class counts of another dataset', (f) => { f.runs[0].rounds[0].classCounts = [1, 2, 3]; }, 'results.runs[0].rounds[0].classCounts = an array of 3 is not allowed: an array of at most 2 counts, one per class of moons (2)'],
    ['class counts not summing', (f) => { f.runs[0].rounds[0].classCounts = [0, 0]; }, "results.runs[0].rounds[0].classCounts = 'counts summing to 0' is not allowed: counts summing to labeled (6)"],
    ['scores of the wrong length', (f) => { f.runs[0].rounds[1].selectedScores = [0.5]; }, 'results.runs[0].rounds[1].selectedScores = an array of 1 is not allowed: null or an array of 4 scores, one per selected index'],
    ['a score that is not a number', (f) => { f.runs[0].rounds[1].selectedScores[1] = 'high'; }, "results.runs[0].rounds[1].selectedScores[1] = 'high' is not allowed: a finite number"],
    ['absurdly many rounds', (f) => { f.runs[0].rounds = Array.from({ length: 50 }, () => f.runs[0].rounds[0]); }, 'results.runs[0].rounds = an array of 50 is not allowed: an array of at most 3 rounds (rounds + 1 = 3)'],
    ['absurdly many selected', (f) => { f.runs[0].rounds[1].selected = Array.from({ length: 1000 }, (_, i) => i); }, 'results.runs[0].rounds[1].selected = an array of 1000 is not allowed: an array of at most 4 train-split indices (query = 4)'],
    ['too many runs', (f) => { f.runs.push(f.runs[0]); }, 'results.runs = an array of 7 is not allowed: an array of at most 6 runs (strategies x repeats = 6)'],
    ['negative time', (f) => { f.runs[0].rounds[0].ms.train = -3; }, 'results.runs[0].rounds[0].ms.train = -3 is not allowed: a duration in milliseconds (a finite number at least 0)'],
    ['backendChoice picking an unknown backend', (f) => { f.environment.backendChoice = { requested: 'auto', picked: 'tpu', reason: '', timings: [], cached: false }; }, "results.environment.backendChoice.picked = 'tpu' is not allowed: one of webgl, webgpu, wasm, cpu"],
    ['bad status', (f) => { f.status = 'great'; }, "results.status = 'great' is not allowed: one of complete, aborted, failed"],
    ['bad date', (f) => { f.startedAt = 'yesterday'; }, "results.startedAt = 'yesterday' is not allowed: a date and time (ISO 8601)"],
    ['huge string', (f) => { f.environment.userAgent = 'x'.repeat(20_000); }, "results.environment.userAgent = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (20000 characters) is not allowed: a string of at most 10000 characters"],
    ['summary of an unknown strategy', (f) => { f.summary[0].strategy = 'bald'; }, "results.summary[0].strategy = 'bald' is not allowed: one of entropy, random, coreset"],
    ['summary alc NaN (null)', (f) => { f.summary[1].alc = null; }, 'results.summary[1].alc = null is not allowed: a finite number in [0, 1]'],
    ['summary perRepeat length', (f) => { f.summary[0].labelsToTarget.perRepeat = [null]; }, 'results.summary[0].labelsToTarget.perRepeat = an array of 1 is not allowed: an array of 2 label counts or nulls, one per repeat'],
  ];
  it.each(cases)('%s', (_name, mutate, message) => {
    const f = copy();
    const replaced = mutate(f);
    const err = refusal(JSON.stringify(replaced ?? f));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
    expect(err.message.startsWith(err.path)).toBe(true);
  });

  it('refuses text that is not JSON, bytes that are not UTF-8, and empty input', () => {
    expect(refusal('{"version": 1,').message).toMatch(/^file = 'text that is not JSON' is not allowed: a JSON file exported by ActiveLab \(the parser says: .+\)$/);
    expect(refusal('').message).toMatch(/^file = 'text that is not JSON/);
    expect(refusal('<html><script>alert(1)</script>').path).toBe('file');
    expect(() => parseResultsFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toThrow("file = 'bytes that are not UTF-8 text' is not allowed: a UTF-8 JSON file exported by ActiveLab");
    expect(refusal('null').message).toBe('results = null is not allowed: an object');
  });

  it('refuses input over the size limit before parsing it, for text, bytes and blobs (without reading the blob)', async () => {
    expect(MAX_RESULTS_FILE_BYTES).toBe(20 * 1024 * 1024);
    expect(() => parseResultsFile(realText, { maxBytes: 100 })).toThrow(/^file = '\d+ bytes' is not allowed: at most 100 bytes \(0 MB\): a results file exported by ActiveLab$/);
    expect(() => parseResultsFile(new Uint8Array(101), { maxBytes: 100 })).toThrow("file = '101 bytes' is not allowed: at most 100 bytes");
    // Multi-byte characters count in UTF-8 bytes: 40 characters, 120 bytes.
    expect(() => parseResultsFile(`"${'€'.repeat(40)}"`, { maxBytes: 100 })).toThrow("file = '122 bytes' is not allowed");
    const big = { size: MAX_RESULTS_FILE_BYTES + 1, arrayBuffer: () => { throw new Error('read a blob over the limit'); } } as unknown as Blob;
    await expect(readResultsFile(big)).rejects.toThrow(`file = '${MAX_RESULTS_FILE_BYTES + 1} bytes' is not allowed: at most ${MAX_RESULTS_FILE_BYTES} bytes (20 MB)`);
    expect(await readResultsFile(new Blob([realText]))).toEqual(JSON.parse(realText));
    await expect(readResultsFile(new Blob(['not json']))).rejects.toBeInstanceOf(ResultsFileError);
  });
});

/** Every path in a JSON value, as key lists. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

/**
 * One path per place in the format: array elements past the second are alike (the rounds, the
 * selections), so `runs[3].rounds[5].selected[7]` stands for every `runs[i >= 2].rounds[j >= 2].selected[k >= 2]`.
 * Each place is still tried: the first and second elements (round 0 is the initial set) and one of the rest.
 */
function distinctPlaces(all: (string | number)[][]): (string | number)[][] {
  const seen = new Set<string>();
  return all.filter((p) => {
    const key = p.map((k) => (typeof k === 'number' ? (k < 2 ? k : '*') : k)).join('/');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function setAt(root: Record<string, any>, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  let o: any = root;
  for (const k of path.slice(0, -1)) {
    o = o?.[k];
    if (typeof o !== 'object' || o === null) return root; // an earlier mutation removed this path
  }
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(o)) o.splice(Number(last), 1);
    else delete o[last];
  } else o[last] = value;
  return root;
}

/** Either a valid result (that validates again to itself) or a ResultsFileError naming its path; anything else fails. */
function total(run: () => ExperimentResults): 'ok' | 'refused' {
  let r: ExperimentResults;
  try {
    r = run();
  } catch (err) {
    if (err instanceof ResultsFileError && err.message.startsWith(err.path)) return 'refused';
    throw err;
  }
  // As JSON, since that is how results travel: a NaN field (calibration.ece when no calibrated ECE
  // exists) is written as null and read back as NaN.
  const json = JSON.parse(JSON.stringify(r)) as unknown;
  expect(JSON.parse(JSON.stringify(validateResults(json)))).toEqual(json);
  return 'ok';
}

describe('parseResultsFile under fuzzing: a valid result or a ResultsFileError, never another exception', () => {
  it('random JSON values and random text', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => { total(() => parseResultsFile(JSON.stringify(v) ?? '')); }), { numRuns: 400, seed: 1001 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => { total(() => parseResultsFile(s)); }), { numRuns: 400, seed: 1002 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => { total(() => parseResultsFile(b)); }), { numRuns: 200, seed: 1003 });
    // Objects that look like results at the top, with anything inside.
    const shaped = fc.record({ version: fc.oneof(fc.constant(1), fc.jsonValue()), config: fc.jsonValue(), environment: fc.jsonValue(), runs: fc.jsonValue(), summary: fc.jsonValue() }, { requiredKeys: [] });
    fc.assert(fc.property(shaped, (v) => { total(() => validateResults(v)); }), { numRuns: 300, seed: 1004 });
  });

  it('random mutations of a valid file (JSON values, removals, and for stored objects any JS value)', () => {
    const all = paths(JSON.parse(realText));
    const mutation = fc.record({
      at: fc.integer({ min: 0, max: all.length - 1 }),
      remove: fc.boolean(),
      value: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.integer({ min: -2, max: 2000 }),
        fc.double(),
        fc.constantFrom(-1, 0, 1, 1.5, 1e308, -0, 'entropy', 'bald', null, [], {}),
      ),
    });
    let refused = 0, ok = 0;
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
      let f: unknown = copy();
      for (const m of ms) {
        if (typeof f !== 'object' || f === null) break;
        f = setAt(f as Record<string, any>, all[m.at]!, m.value, m.remove && all[m.at]!.length > 0);
      }
      const text = JSON.stringify(f) ?? 'undefined';
      if (total(() => parseResultsFile(text)) === 'ok') ok++;
      else refused++;
    }), { numRuns: 600, seed: 1005 });
    expect(refused).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(0);

    // Objects (not text): NaN, Infinity, undefined, functions, symbols, bigints, odd prototypes.
    fc.assert(fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true, maxDepth: 2 }), (at, value) => {
      total(() => validateResults(setAt(copy(), all[at]!, value, false)));
    }), { numRuns: 400, seed: 1006 });
    // eslint-disable-next-line no-sparse-arrays
    const weird = [Number.NaN, Infinity, -Infinity, undefined, () => 1, Symbol('s'), 10n, [, ], [1, , 2]]; // sparse arrays: holes must not pass as holes
    for (const p of distinctPlaces(all)) for (const w of weird) total(() => validateResults(setAt(copy(), p, w, false)));
  });
});
