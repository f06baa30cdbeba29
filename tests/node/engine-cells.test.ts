/**
 * `RunOptions.cells`: a subset of the (strategy, repeat) cells runs alone and gives exactly the
 * runs it has in the full experiment (wasm, where results are bit-reproducible).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment, type ExperimentEvent, type ExperimentResults } from '../../src/engine/index.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

const runsOf = (res: ExperimentResults) => res.runs.map((run) => ({ ...run, rounds: run.rounds.map(({ ms: _ms, ...rest }) => rest) }));

describe('runExperiment with cells', () => {
  it('runs only the given cells, each equal to its run in the full experiment', async () => {
    const config = resolveConfig({
      dataset: 'moons', model: 'mlp', strategies: ['entropy', 'random'], initial: 6, query: 4, rounds: 2, repeats: 2, epochs: 3, testSubset: 100, seed: 4,
    });
    const ds = await loadDataset('moons', { seed: config.seed });
    const full = await runExperiment(config, ds);
    const events: ExperimentEvent[] = [];
    // Out of order on purpose: the results keep the loop's order.
    const part = await runExperiment(config, ds, { cells: [{ strategy: 'entropy', repeat: 1 }, { strategy: 'random', repeat: 0 }], onEvent: (e) => void events.push(e) });
    expect(part.runs.map((r) => [r.strategy, r.repeat])).toEqual([['random', 0], ['entropy', 1]]);
    const byCell = new Map(runsOf(full).map((r) => [`${r.strategy}#${r.repeat}`, r]));
    expect(runsOf(part)).toEqual([byCell.get('random#0'), byCell.get('entropy#1')]);
    const start = events.find((e) => e.type === 'start');
    expect(start?.type === 'start' && start.progress.total).toBe(2 * 3);
    expect(part.summary.map((s) => [s.strategy, s.repeats])).toEqual([['random', 1], ['entropy', 1]]);
  });

  it('refuses a cell the configuration does not have, by name', async () => {
    const config = resolveConfig({ dataset: 'moons', model: 'logreg', strategies: ['entropy'], initial: 6, query: 4, rounds: 1, repeats: 1, epochs: 1 });
    const ds = await loadDataset('moons', { seed: config.seed });
    await expect(runExperiment(config, ds, { cells: [{ strategy: 'entropy', repeat: 1 }] })).rejects.toThrow('cells: (entropy, repeat 1) is not a cell of this configuration');
    await expect(runExperiment(config, ds, { cells: [{ strategy: 'bald', repeat: 0 }] })).rejects.toThrow('cells: (bald, repeat 0) is not a cell of this configuration');
  });
});
