/**
 * What the page's IndexedDB store (src/app/store.ts) accepts when it reads back: experiment
 * records and round rows checked with the results schema, the same checks as a results file
 * (the IndexedDB plumbing itself runs in tests/e2e/recovery.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DATASETS, describeDataset, withDataset } from '../../datasets/catalog.ts';
import { checkStoredExperiment, storedExperimentSchema, storedRuns, type StoredExperiment } from '../../src/app/store.ts';
import type { RoundData } from '../../src/app/state.ts';
import { resolveConfig } from '../../src/engine/config.ts';
import type { RoundRecord } from '../../src/engine/results.ts';
import { check, problemMessage } from '../../src/schema.ts';

const config = resolveConfig({ dataset: 'moons', model: 'mlp', strategies: ['entropy', 'random'], initial: 4, query: 2, rounds: 3, repeats: 1 });

const experiment = (): StoredExperiment => ({
  id: 'e1', config, dataset: null, startedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:01:00.000Z',
  status: 'running', total: 8, done: 3, runs: [{ strategy: 'entropy', repeat: 0, status: 'running' }],
});

/** Round r of a consistent run: rows 10r.. selected, one per class alternately. */
function record(round: number): RoundRecord {
  const selected = round === 0 ? [0, 1, 2, 3] : [10 * round, 10 * round + 1];
  const labeled = 4 + 2 * round;
  return {
    round, labeled, accuracy: 0.5 + round / 10, loss: 0.7, ece: 0.1, calibration: null, classCounts: [labeled / 2, labeled / 2], selected,
    selectedScores: round === 0 ? null : [0.9, 0.8], ms: { train: 1, predict: 1, score: 1, select: 1, evaluate: 1 },
  };
}

const data = (rec: RoundRecord): RoundData => ({
  record: rec, scores: null, confusion: [1, 0, 0, 1], grid: null, queried: { labels: new Uint8Array(rec.selected.length), pixels: null },
});
const row = (rec: RoundRecord, strategy = 'entropy', repeat = 0) => ({ id: 'e1', strategy, repeat, round: rec.round, data: data(rec) });

describe('stored experiment records', () => {
  it('accepts a record the page writes, and returns it checked', () => {
    expect(checkStoredExperiment(experiment())).toEqual(experiment());
    const withInfo = { ...experiment(), dataset: { name: 'moons', kind: 'points', shape: [2], numClasses: 2, classNames: ['outer', 'inner'], trainSize: 800, testSize: 200, points: { x: new Float32Array(4), y: new Uint8Array(2) }, grid: { size: 64, x0: -1, x1: 1, y0: -1, y1: 1 } } };
    expect(checkStoredExperiment(withInfo)).toEqual(withInfo);
  });

  it.each([
    ['a configuration resolveConfig refuses', (e: Record<string, any>) => { e.config = { ...config, rounds: -1 }; }, 'experiment.config.rounds = -1 is not allowed: an integer from 0 to 100000'],
    ['a configuration missing a field', (e: Record<string, any>) => { const { seed: _s, ...c } = config; e.config = c; }, 'experiment.config.seed is missing: every configuration field, as exported'],
    ['a run of a strategy the configuration does not list', (e: Record<string, any>) => { e.runs[0].strategy = 'bald'; }, "experiment.runs[0].strategy = 'bald' is not allowed: one of entropy, random"],
    ['a run listed twice', (e: Record<string, any>) => { e.runs.push({ ...e.runs[0] }); }, 'experiment.runs[1].repeat = 0 is not allowed: a repeat of entropy not listed before'],
    ['a repeat out of range', (e: Record<string, any>) => { e.runs[0].repeat = 1; }, 'experiment.runs[0].repeat = 1 is not allowed: an integer from 0 to 0'],
    ['an unknown status', (e: Record<string, any>) => { e.status = 'great'; }, "experiment.status = 'great' is not allowed: one of running, complete, aborted, failed"],
    ['a missing id', (e: Record<string, any>) => { delete e.id; }, 'experiment.id is missing: a string'],
    ['dataset points that are not typed arrays', (e: Record<string, any>) => { e.dataset = { name: 'moons', kind: 'points', shape: [2], numClasses: 2, classNames: ['a', 'b'], trainSize: 1, testSize: 1, points: { x: [0, 0], y: [0] }, grid: null }; }, 'experiment.dataset.points.x = an array of 2 is not allowed: a Float32Array'],
  ])('refuses %s', (_name, mutate, message) => {
    const e = structuredClone(experiment()) as unknown as Record<string, any>;
    mutate(e);
    const r = check(storedExperimentSchema(), e, 'experiment');
    expect(r.ok ? 'accepted' : problemMessage(r.problem)).toBe(message);
    expect(checkStoredExperiment(e)).toBeNull();
  });

  it('a configuration on a dataset described at run time is valid only where that dataset is in the catalog', () => {
    const datasets = withDataset(BUILTIN_DATASETS, describeDataset({ name: 'iris', kind: 'tabular', shape: [4], classNames: ['a', 'b', 'c'], sizes: { train: 120, test: 30 }, hash: 'aaaaaaaaaaaaaaaa' }));
    const e = { ...experiment(), config: resolveConfig({ ...config, dataset: 'iris', initial: 6 }, { datasets }) };
    expect(checkStoredExperiment(e, datasets)).toEqual(e);
    expect(checkStoredExperiment(e)).toBeNull();
  });
});

describe('stored rounds, checked with the results schema', () => {
  const ids = (runs: ReturnType<typeof storedRuns>) => runs.map((r) => [r.strategy, r.repeat, r.rounds.map((d) => d.record.round)]);

  it('puts each run\'s rows in round order, keeping the display data beside the checked record', () => {
    const runs = storedRuns(experiment(), [row(record(2)), row(record(0)), row(record(1))]);
    expect(ids(runs)).toEqual([['entropy', 0, [0, 1, 2]]]);
    expect(runs[0]!.rounds[1]).toEqual(data(record(1)));
    expect(runs[0]!.status).toBe('running');
  });

  it('keeps a run only up to its first missing or invalid round', () => {
    // Round 1 missing: rounds 2 and 3 cannot be continued from.
    expect(ids(storedRuns(experiment(), [row(record(0)), row(record(2)), row(record(3))]))).toEqual([['entropy', 0, [0]]]);
    // Round 2 selects a row outside the train split (moons: 800 rows).
    const outside = { ...record(2), selected: [20, 99_999] };
    expect(ids(storedRuns(experiment(), [row(record(0)), row(record(1)), row(outside), row(record(3))]))).toEqual([['entropy', 0, [0, 1]]]);
    // Round 1 labels a row labeled in round 0 again.
    const again = { ...record(1), selected: [3, 11] };
    expect(ids(storedRuns(experiment(), [row(record(0)), row(again)]))).toEqual([['entropy', 0, [0]]]);
    // Counts that do not add up, and a row whose display data is not what the page writes.
    const counts = { ...record(1), classCounts: [6, 6] };
    expect(ids(storedRuns(experiment(), [row(record(0)), row(counts)]))).toEqual([['entropy', 0, [0]]]);
    const broken = { ...row(record(1)), data: { record: record(1), confusion: [] } };
    expect(ids(storedRuns(experiment(), [row(record(0)), broken, row(record(2))]))).toEqual([['entropy', 0, [0]]]);
  });

  it('skips rows that are no round of the configuration\'s runs, and adds runs the record did not list yet', () => {
    const runs = storedRuns(experiment(), [row(record(0)), row(record(0), 'bald'), row(record(0), 'entropy', 1), row(record(0), 'random')]);
    expect(ids(runs)).toEqual([['entropy', 0, [0]], ['random', 0, [0]]]);
    expect(runs[1]!.status).toBe('aborted');
  });
});
