/**
 * Cells, shards and merging (src/cli/shard.ts, src/cli/merge.ts) as functions: the fixed cell
 * order, `--shard I/N` and `env/N`, and `mergeResults` joining disjoint shards of one
 * configuration while refusing others by name.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig, summarize, type ExperimentResults, type RunRecord } from '../../src/engine/index.ts';
import { mergeResults, MergeError } from '../../src/cli/merge.ts';
import { allCells, parseShard, shardCells } from '../../src/cli/shard.ts';
import { UsageError } from '../../src/cli/args.ts';

const config = resolveConfig({ dataset: 'moons', model: 'logreg', strategies: ['entropy', 'random', 'margin'], initial: 4, query: 2, rounds: 1, repeats: 2, seed: 1 });

describe('cells and shards', () => {
  it('orders cells repeat by repeat, strategies in config order, and shards them by index mod N', () => {
    const cells = allCells(config).map((c) => `${c.strategy}#${c.repeat}`);
    expect(cells).toEqual(['entropy#0', 'random#0', 'margin#0', 'entropy#1', 'random#1', 'margin#1']);
    const names = (i: number, n: number) => shardCells(allCells(config), { index: i, count: n }).map((c) => `${c.strategy}#${c.repeat}`);
    expect(names(0, 4)).toEqual(['entropy#0', 'random#1']);
    expect(names(1, 4)).toEqual(['random#0', 'margin#1']);
    expect(names(3, 4)).toEqual(['entropy#1']);
    // Every cell in exactly one shard, whatever N.
    for (const n of [1, 2, 3, 4, 6, 7]) {
      const all = Array.from({ length: n }, (_, i) => names(i, n)).flat();
      expect(all.sort()).toEqual([...cells].sort());
    }
    expect(shardCells(allCells(config), null)).toEqual(allCells(config));
  });

  it('parses I/N and env/N (JOB_COMPLETION_INDEX, then SLURM_ARRAY_TASK_ID)', () => {
    expect(parseShard('1/4', {})).toEqual({ index: 1, count: 4 });
    expect(parseShard('env/4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(parseShard('env/4', { SLURM_ARRAY_TASK_ID: '2' })).toEqual({ index: 2, count: 4 });
    expect(parseShard('env/4', { JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '2' })).toEqual({ index: 0, count: 4 });
  });

  it.each([
    ['2/2', {}, '--shard 2/2: the index must be from 0 to 1'],
    ['-1/2', {}, "--shard takes I/N (shard I of N, 0 <= I < N) or env/N, got '-1/2'"],
    ['1of2', {}, "--shard takes I/N (shard I of N, 0 <= I < N) or env/N, got '1of2'"],
    ['0/0', {}, '--shard 0/0: N must be a whole number of at least 1'],
    ['env/2', {}, '--shard env/2 reads the shard index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, and neither is set'],
    ['env/2', { SLURM_ARRAY_TASK_ID: 'x' }, "--shard env/2: SLURM_ARRAY_TASK_ID is 'x', not a whole number"],
    ['env/2', { SLURM_ARRAY_TASK_ID: '2' }, '--shard env/2 (SLURM_ARRAY_TASK_ID=2): the index must be from 0 to 1 (a Slurm array for N shards is --array=0-1)'],
  ])('refuses --shard %s (env %j) naming the flag', (raw, env, message) => {
    expect(() => parseShard(raw, env)).toThrow(UsageError);
    expect(() => parseShard(raw, env)).toThrow(message);
  });
});

describe('mergeResults', () => {
  const run = (strategy: string, repeat: number, acc: number): RunRecord => ({
    strategy, repeat, status: 'complete',
    rounds: [0, 1].map((r) => ({
      round: r, labeled: 4 + 2 * r, accuracy: acc + r / 10, loss: 0.5, ece: 0.1, calibration: null, classCounts: [2 + r, 2],
      selected: r === 0 ? [repeat, 10 + repeat, 20 + repeat, 30 + repeat] : [40 + repeat, 50 + repeat], selectedScores: r === 0 ? null : [1, 0.5],
      ms: { train: 1, predict: 1, score: 1, select: 1, evaluate: 1 },
    })),
  });
  const full = allCells(config).map((c, i) => run(c.strategy, c.repeat, 0.5 + i / 100));
  const file = (runs: RunRecord[], shard?: { index: number; count: number }, elapsedMs = 10): ExperimentResults => ({
    version: 1, config, environment: { backend: 'wasm', renderer: null, userAgent: null }, status: 'complete', startedAt: `2026-01-0${1 + (shard?.index ?? 0)}T00:00:00.000Z`,
    elapsedMs, runs, summary: summarize(runs, config.target), ...(shard ? { shard } : {}),
  });
  const shardFile = (i: number, n: number) => file(shardCells(allCells(config), { index: i, count: n }).map((c) => full.find((r) => r.strategy === c.strategy && r.repeat === c.repeat)!), { index: i, count: n }, 10 * (i + 1));

  it('joins shards into the runs and summary of the whole configuration', () => {
    const m = mergeResults([{ name: 'b.json', results: shardFile(1, 2) }, { name: 'a.json', results: shardFile(0, 2) }]);
    expect(m.absent).toEqual([]);
    expect(m.incomplete).toEqual([]);
    expect(m.results.runs).toEqual(full);
    expect(m.results.summary).toEqual(summarize(full, config.target));
    expect(m.results.status).toBe('complete');
    expect(m.results.shard).toBeUndefined();
    expect(m.results.absent).toBeUndefined();
    expect(m.results.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(m.results.elapsedMs).toBe(20);
  });

  it('names the cells no input holds and those that did not complete', () => {
    const partial = shardFile(2, 3);
    partial.runs[1] = { ...partial.runs[1]!, status: 'aborted', rounds: partial.runs[1]!.rounds.slice(0, 1) };
    const m = mergeResults([{ name: 'a.json', results: shardFile(0, 3) }, { name: 'c.json', results: partial }]);
    expect(m.absent).toEqual([{ strategy: 'random', repeat: 0 }, { strategy: 'random', repeat: 1 }]);
    expect(m.results.absent).toEqual(m.absent);
    expect(m.incomplete).toEqual([{ cell: { strategy: 'margin', repeat: 1 }, status: 'aborted', rounds: 1, from: 'c.json' }]);
    expect(m.results.status).toBe('aborted');
  });

  it('refuses different configurations naming the field and the files', () => {
    const other = shardFile(1, 2);
    other.config = { ...other.config, seed: 2 };
    expect(() => mergeResults([{ name: 'a.json', results: shardFile(0, 2) }, { name: 'b.json', results: other }])).toThrow(MergeError);
    expect(() => mergeResults([{ name: 'a.json', results: shardFile(0, 2) }, { name: 'b.json', results: other }])).toThrow('a.json and b.json have different configurations: config.seed is 1 in a.json and 2 in b.json');
  });

  it('refuses a cell held by two inputs, naming it and both files', () => {
    expect(() => mergeResults([{ name: 'a.json', results: shardFile(0, 2) }, { name: 'x.json', results: shardFile(0, 3) }])).toThrow('entropy #0 is in both a.json and x.json');
  });
});
