/**
 * Cells and shards of a sweep. A cell is one (strategy, repeat) run of a configuration; the
 * cells have one fixed order, the loop's (repeat by repeat, strategies in config order), and
 * `--shard I/N` keeps the cells whose index in that order is congruent to I mod N.
 *
 *   allCells(config)                      // [{entropy, 0}, {random, 0}, {entropy, 1}, ...]
 *   parseShard('1/4', process.env)        // { index: 1, count: 4 }
 *   parseShard('env/4', { JOB_COMPLETION_INDEX: '2' })   // { index: 2, count: 4 }
 *   shardCells(allCells(config), { index: 1, count: 4 })
 */
import type { ExperimentConfig } from '../engine/config.ts';
import type { CellRef } from '../engine/results.ts';
import { UsageError } from './args.ts';

export type Cell = CellRef;

export interface Shard {
  /** 0 .. count - 1. */
  index: number;
  count: number;
}

/** "entropy #0": how cells are named in messages. */
export const cellName = (c: Cell): string => `${c.strategy} #${c.repeat}`;
/** A map key of a cell. */
export const cellKey = (c: Cell): string => `${c.strategy}#${c.repeat}`;

/** Every cell of `config`, in the fixed order: repeat 0's strategies in config order, then repeat 1's, ... */
export function allCells(config: Pick<ExperimentConfig, 'strategies' | 'repeats'>): Cell[] {
  const cells: Cell[] = [];
  for (let repeat = 0; repeat < config.repeats; repeat++) for (const strategy of config.strategies) cells.push({ strategy, repeat });
  return cells;
}

/** The cells of `shard`: those whose index in `cells` is congruent to shard.index mod shard.count. */
export function shardCells(cells: readonly Cell[], shard: Shard | null): Cell[] {
  return shard === null ? [...cells] : cells.filter((_, i) => i % shard.count === shard.index);
}

/** Sorts runs (or anything with strategy and repeat) into the fixed cell order of `config`. */
export function inCellOrder<T extends Cell>(config: Pick<ExperimentConfig, 'strategies' | 'repeats'>, items: readonly T[]): T[] {
  const order = new Map(allCells(config).map((c, i) => [cellKey(c), i]));
  const at = (c: Cell) => order.get(cellKey(c)) ?? Number.MAX_SAFE_INTEGER;
  return [...items].sort((a, b) => at(a) - at(b));
}

/** The environment variables `--shard env/N` reads the index from, first found wins. */
export const SHARD_INDEX_VARS = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'] as const;

/**
 * Parses `--shard I/N` (0 <= I < N) or `--shard env/N`, which reads I from JOB_COMPLETION_INDEX
 * (Kubernetes Indexed Jobs) or SLURM_ARRAY_TASK_ID (Slurm job arrays).
 * @throws UsageError naming --shard, the value and what is allowed.
 */
export function parseShard(raw: string, env: Readonly<Record<string, string | undefined>>): Shard {
  const m = /^(env|\d+)\/(\d+)$/.exec(raw.trim());
  if (!m) throw new UsageError(`--shard takes I/N (shard I of N, 0 <= I < N) or env/N, got '${raw}'`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`--shard ${raw}: N must be a whole number of at least 1`);
  let index: number;
  let from = '';
  if (m[1] === 'env') {
    const name = SHARD_INDEX_VARS.find((v) => env[v] !== undefined && env[v] !== '');
    if (!name) throw new UsageError(`--shard ${raw} reads the shard index from ${SHARD_INDEX_VARS.join(' or ')}, and neither is set`);
    const value = env[name]!;
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`--shard ${raw}: ${name} is '${value}', not a whole number`);
    index = Number(value.trim());
    from = ` (${name}=${value})`;
  } else {
    index = Number(m[1]);
  }
  if (!Number.isSafeInteger(index) || index >= count) {
    throw new UsageError(`--shard ${raw}${from}: the index must be from 0 to ${count - 1}${m[1] === 'env' ? ' (a Slurm array for N shards is --array=0-' + (count - 1) + ')' : ''}`);
  }
  return { index, count };
}
