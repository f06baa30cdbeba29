/**
 * Resuming an interrupted experiment (`RunOptions.resume`): the kept rounds are not computed
 * again, and on the same backend the resumed run selects and scores exactly as an uninterrupted
 * run of the same config does (real tfjs models on wasm, where results are bit-reproducible).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { ExperimentError, resolveConfig, runExperiment, type ExperimentConfig, type ExperimentEvent, type ExperimentResults } from '../../src/engine/index.ts';

beforeAll(async () => {
  await useBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

/** What must match between two runs: everything but the timings. */
function comparable(res: ExperimentResults) {
  return res.runs.map((run) => ({
    strategy: run.strategy,
    repeat: run.repeat,
    status: run.status,
    rounds: run.rounds.map(({ ms: _ms, ...rest }) => rest),
  }));
}

/** Runs `config`, stopping it right after the `stopAfter`-th round event; returns the partial results. */
async function interrupted(config: ExperimentConfig, ds: Dataset<string>, stopAfter: number): Promise<ExperimentResults> {
  const ctrl = new AbortController();
  let seen = 0;
  const res = await runExperiment(config, ds, {
    signal: ctrl.signal,
    onEvent: (e) => {
      if (e.type === 'round' && ++seen === stopAfter) ctrl.abort();
    },
  });
  expect(res.status).toBe('aborted');
  return res;
}

const small: Partial<ExperimentConfig> = {
  dataset: 'classification', model: 'mlp', strategies: ['entropy', 'bald', 'random'], initial: 10, query: 5, rounds: 3, repeats: 2,
  epochs: 3, batchSize: 16, mcSamples: 3, testSubset: 200, poolSubset: 150, seed: 7,
};

describe('runExperiment with resume (wasm, mlp)', () => {
  it('continues an interrupted experiment to exactly the results of an uninterrupted one, recomputing nothing kept', async () => {
    const config = resolveConfig(small);
    const ds = await loadDataset('classification', { seed: config.seed });
    const full = await runExperiment(config, ds);
    expect(full.status).toBe('complete');

    // Stopped in the middle of the 2nd strategy of repeat 0 (after its round 1): 4 + 2 rounds done.
    const partial = await interrupted(config, ds, 6);
    expect(partial.runs.map((r) => [r.strategy, r.status, r.rounds.length])).toEqual([['entropy', 'complete', 4], ['bald', 'aborted', 2]]);

    const events: ExperimentEvent[] = [];
    const resumed = await runExperiment(config, ds, { resume: partial, onEvent: (e) => void events.push(e) });
    expect(resumed.status).toBe('complete');
    expect(comparable(resumed)).toEqual(comparable(full));
    expect(resumed.summary).toEqual(full.summary);

    const start = events.find((e) => e.type === 'start');
    expect(start?.type === 'start' && start.resumed).toEqual({ keptRounds: 6, keptRuns: 2 });
    // Only the missing rounds are computed: 24 in all, 6 kept.
    const rounds = events.filter((e) => e.type === 'round');
    expect(rounds).toHaveLength(24 - 6);
    expect(rounds[0]!.type === 'round' && [rounds[0]!.strategy, rounds[0]!.record.round]).toEqual(['bald', 2]);
    const resumeEvents = events.filter((e) => e.type === 'resume');
    expect(resumeEvents).toHaveLength(1);
    expect(resumeEvents[0]).toMatchObject({ strategy: 'bald', repeat: 0, round: 1, labeled: 15 });
    // Progress counts the kept rounds.
    const last = rounds[rounds.length - 1]!;
    expect(last.type === 'round' && last.progress).toMatchObject({ done: 24, total: 24 });
  });

  it('resumes a run that stopped after round 0, and one interrupted in a later repeat', async () => {
    const config = resolveConfig({ ...small, strategies: ['margin', 'random'], rounds: 2 });
    const ds = await loadDataset('classification', { seed: config.seed });
    const full = await runExperiment(config, ds);
    for (const stopAfter of [1, 8]) {
      const partial = await interrupted(config, ds, stopAfter);
      const resumed = await runExperiment(config, ds, { resume: partial });
      expect(comparable(resumed)).toEqual(comparable(full));
    }
  });

  it('with warmStart and calibrate: replays the kept rounds\' training and carries the temperature', async () => {
    const config = resolveConfig({ ...small, strategies: ['entropy'], repeats: 1, rounds: 4, warmStart: true, calibrate: true, validation: 40 });
    const ds = await loadDataset('classification', { seed: config.seed });
    const full = await runExperiment(config, ds);
    const partial = await interrupted(config, ds, 3);
    const events: ExperimentEvent[] = [];
    const resumed = await runExperiment(config, ds, { resume: partial, onEvent: (e) => void events.push(e) });
    expect(comparable(resumed)).toEqual(comparable(full));
    // Rounds 0, 1 and 2 were kept; their training is replayed (3 train phases before round 3's).
    const trainRounds = events.flatMap((e) => (e.type === 'phase' && e.phase === 'train' ? [e.round] : []));
    expect(trainRounds).toEqual([0, 1, 2, 3, 4]);
    expect(events.find((e) => e.type === 'resume')).toMatchObject({ round: 2, message: expect.stringContaining('warm start') });
  });

  it('keeps a finished experiment as it is: nothing is trained', async () => {
    const config = resolveConfig({ ...small, strategies: ['random'], repeats: 1, rounds: 1 });
    const ds = await loadDataset('classification', { seed: config.seed });
    const full = await runExperiment(config, ds);
    const events: ExperimentEvent[] = [];
    const again = await runExperiment(config, ds, { resume: full, onEvent: (e) => void events.push(e) });
    expect(comparable(again)).toEqual(comparable(full));
    expect(events.filter((e) => e.type === 'phase' || e.type === 'round')).toHaveLength(0);
  });

  it('may change the backend, and nothing else', async () => {
    const config = resolveConfig({ ...small, strategies: ['random'], repeats: 1, rounds: 2 });
    const ds = await loadDataset('classification', { seed: config.seed });
    const partial = await interrupted(config, ds, 2);
    const onCpu = await runExperiment({ ...config, backend: 'cpu' }, ds, { resume: partial }); // the config field only; this test stays on wasm
    expect(onCpu.status).toBe('complete');
    for (const [field, value] of [['seed', 8], ['query', 6], ['strategies', ['random', 'entropy']], ['model', 'logreg']] as const) {
      const other = resolveConfig({ ...config, [field]: value });
      await expect(runExperiment(other, ds, { resume: partial })).rejects.toThrow(
        new RegExp(`^cannot resume: config\\.${field} is .* now but was .* in the run being resumed$`),
      );
    }
  });

  it('refuses earlier results that do not fit the pool, keeping the runs it could take over', async () => {
    const config = resolveConfig({ ...small, strategies: ['entropy', 'random'], repeats: 1, rounds: 2 });
    const ds = await loadDataset('classification', { seed: config.seed });
    const partial = await interrupted(config, ds, 5);
    const broken: ExperimentResults = structuredClone(partial);
    const run = broken.runs[1]!;
    run.rounds[1]!.selected[0] = run.rounds[0]!.selected[0]!; // "queries" a row labeled in round 0
    const err = await runExperiment(config, ds, { resume: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExperimentError);
    expect((err as ExperimentError).message).toMatch(/random, repeat 0: ResumeError: cannot resume random, repeat 0: round 1 selected row \d+, which is already labeled/);
    // The finished entropy run is kept in the error's results.
    expect((err as ExperimentError).results.runs[0]).toMatchObject({ strategy: 'entropy', status: 'complete' });
    expect((err as ExperimentError).results.runs[0]!.rounds).toHaveLength(3);

    const extra: ExperimentResults = structuredClone(partial);
    extra.runs.push({ strategy: 'bald', repeat: 0, status: 'aborted', rounds: [] });
    await expect(runExperiment(config, ds, { resume: extra })).rejects.toThrow(/hold a run \(bald, repeat 0\) this configuration does not have/);

    const shuffled: ExperimentResults = structuredClone(partial);
    shuffled.runs[0]!.rounds.reverse();
    await expect(runExperiment(config, ds, { resume: shuffled })).rejects.toThrow(/entropy, repeat 0 has round 2 at position 0/);
  });

  it('leaks no tensors when resuming', async () => {
    const config = resolveConfig({ ...small, strategies: ['bald'], repeats: 1, rounds: 2 });
    const ds = await loadDataset('classification', { seed: config.seed });
    const partial = await interrupted(config, ds, 2);
    const before = tf.memory().numTensors;
    await runExperiment(config, ds, { resume: partial });
    expect(tf.memory().numTensors).toBe(before);
  });
});
