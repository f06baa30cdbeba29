/**
 * The loop's named random streams. Every stream is derived afresh from the seed by its path of
 * names, so no stream depends on which others were drawn before it: a round's training gets the
 * same seed whether or not that round predicted, subsampled the pool or ran MC dropout first,
 * which is what lets a run resume exactly.
 */
import { Rng } from '../rng.ts';

/** The random stream named by `path` under `seed`: the same path always gives the same stream. */
export function stream(seed: number, ...path: string[]): Rng {
  return path.reduce((rng, label) => rng.fork(label), new Rng(seed));
}

/** A stream of one repeat, the same for every strategy ('validation', 'initial'). */
export const repeatStream = (seed: number, repeat: number, label: string): Rng => stream(seed, `repeat:${repeat}`, label);

/** A stream of one round, the same for every strategy ('pool-subset', 'mc-dropout', 'train'). */
export const roundStream = (seed: number, repeat: number, round: number, label: string): Rng =>
  stream(seed, `repeat:${repeat}`, `round:${round}`, label);

/** A strategy's own stream in one round (random scores, clustering seeds). */
export const strategyStream = (seed: number, repeat: number, strategy: string, round: number): Rng =>
  stream(seed, `repeat:${repeat}`, `strategy:${strategy}`, `round:${round}`);
