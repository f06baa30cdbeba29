/**
 * The page's labeling model (src/app/labeling.ts): a batch answered by keys, undo, skip, submit,
 * answers kept across a reload, the stats and the labels CSV; and what the store (store.ts) reads
 * back of a labeling run (the IndexedDB plumbing runs in tests/e2e/labeling.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { LabelBatch, labelsToCsv, labelStats, SKIP, type DrawnExample, type LabelAnswer } from '../../src/app/labeling.ts';
import type { LabelQuery } from '../../src/app/protocol.ts';
import { checkStoredExperiment, storedDrawn, storedLabels } from '../../src/app/store.ts';
import { resolveConfig } from '../../src/engine/config.ts';

const query = (round = 2): LabelQuery => ({
  id: 1, strategy: 'entropy', repeat: 0, round, indices: Int32Array.of(40, 7, 13), truth: Uint8Array.of(3, 1, 4),
  pixels: null, points: null, top: { classes: new Int32Array(9), probs: new Float32Array(9), k: 3 },
});

describe('LabelBatch', () => {
  it('labels by digit keys in order, undoes with Backspace, skips with Space, submits with Enter only when answered', () => {
    const b = new LabelBatch(query(), 10, [], 1000);
    expect(b.current).toBe(0);
    expect(b.key('Enter', 1100)).toEqual({ kind: 'incomplete', missing: 3 });
    const first = b.key('3', 3000);
    expect(first).toMatchObject({ kind: 'label', answer: { position: 0, row: 40, label: 3, seconds: 2, truth: 3, round: 2, strategy: 'entropy' } });
    expect(b.key('9', 4000)).toMatchObject({ kind: 'label', answer: { position: 1, row: 7, label: 9 } });
    expect(b.key('Backspace', 4500)).toMatchObject({ kind: 'undo', answer: { position: 1, label: 9 } });
    expect(b.current).toBe(1);
    expect(b.key('1', 5500)).toMatchObject({ kind: 'label', answer: { position: 1, label: 1, seconds: 1 } });
    expect(b.key(' ', 6000)).toMatchObject({ kind: 'label', answer: { position: 2, row: 13, label: SKIP } });
    expect(b.key('5', 6100)).toEqual({ kind: 'none' });
    expect(b.key('Enter', 6200)).toEqual({ kind: 'submit', labels: [3, 1, SKIP] });
  });

  it('ignores digits at or above the class count, and other keys', () => {
    const b = new LabelBatch(query(), 2);
    expect(b.key('2', 1)).toEqual({ kind: 'none' });
    expect(b.key('a', 1)).toEqual({ kind: 'none' });
    expect(b.key('Backspace', 1)).toEqual({ kind: 'none' });
    expect(b.key('1', 1)).toMatchObject({ kind: 'label' });
  });

  it('keeps the answers saved before a reload that fit the batch, and goes on at the next row', () => {
    const saved: LabelAnswer[] = [
      { strategy: 'entropy', repeat: 0, round: 2, position: 1, row: 7, label: 1, seconds: 1, truth: 1 },
      { strategy: 'entropy', repeat: 0, round: 2, position: 0, row: 40, label: 3, seconds: 2, truth: 3 },
      // A row that is not this batch's at that position, and another round's answer: dropped.
      { strategy: 'entropy', repeat: 0, round: 2, position: 2, row: 99, label: 3, seconds: 2, truth: 3 },
      { strategy: 'entropy', repeat: 0, round: 1, position: 2, row: 13, label: 3, seconds: 2, truth: 3 },
    ];
    const b = new LabelBatch(query(), 10, saved);
    expect(b.current).toBe(2);
    expect(b.at(0)?.label).toBe(3);
    // Undo takes back the last by position order.
    expect(b.undo(0)?.position).toBe(1);
  });
});

describe('labelStats and labelsToCsv', () => {
  const answers: LabelAnswer[] = [
    { strategy: 'entropy', repeat: 0, round: 2, position: 1, row: 7, label: 2, seconds: 3, truth: 1 },
    { strategy: 'entropy', repeat: 0, round: 1, position: 0, row: 40, label: 3, seconds: 2, truth: 3 },
    { strategy: 'entropy', repeat: 0, round: 1, position: 1, row: 5, label: SKIP, seconds: 1, truth: 0 },
    { strategy: 'entropy', repeat: 0, round: 2, position: 0, row: 8, label: 4, seconds: 0.5, truth: null },
  ];

  it('counts labels, skips, agreement over known labels and seconds per answer', () => {
    expect(labelStats(answers)).toEqual({ given: 3, skipped: 1, agreement: 0.5, secondsPerLabel: 6.5 / 4 });
    expect(labelStats([])).toEqual({ given: 0, skipped: 0, agreement: null, secondsPerLabel: null });
  });

  it('writes one row per answer in round and batch order', () => {
    expect(labelsToCsv(answers)).toBe([
      'dataset_row,label,round,strategy,seconds,agreed',
      '40,3,1,entropy,2.000,true',
      '5,-1,1,entropy,1.000,',
      '8,4,2,entropy,0.500,',
      '7,2,2,entropy,3.000,false',
      '',
    ].join('\n'));
  });

  it("writes the drawn digits after their round's answers, as 'drawn' rows", () => {
    const pixels = new Uint8Array(784);
    const drawn: DrawnExample[] = [
      { strategy: 'entropy', repeat: 0, round: 2, position: 0, label: 9, pixels },
      { strategy: 'entropy', repeat: 0, round: 1, position: 1, label: 6, pixels },
      { strategy: 'entropy', repeat: 0, round: 1, position: 0, label: 5, pixels },
    ];
    expect(labelsToCsv(answers, drawn).split('\n').slice(1, 8)).toEqual([
      '40,3,1,entropy,2.000,true',
      '5,-1,1,entropy,1.000,',
      'drawn,5,1,entropy,,',
      'drawn,6,1,entropy,,',
      '8,4,2,entropy,0.500,',
      '7,2,2,entropy,3.000,false',
      'drawn,9,2,entropy,,',
    ]);
  });
});

describe('what the store reads back of a labeling run (store.ts)', () => {
  const config = resolveConfig({ dataset: 'moons', model: 'mlp', strategies: ['entropy'], initial: 4, query: 2, rounds: 3, repeats: 1 });
  const experiment = {
    id: 'e1', config, dataset: null, startedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:01:00.000Z',
    status: 'running', total: 4, done: 2, runs: [{ strategy: 'entropy', repeat: 0, status: 'running' }],
  };

  it("keeps a labeling run's oracle, and refuses an unknown one", () => {
    expect(checkStoredExperiment({ ...experiment, oracle: 'human' })?.oracle).toBe('human');
    expect(checkStoredExperiment(experiment)).not.toHaveProperty('oracle');
    expect(checkStoredExperiment({ ...experiment, oracle: 'robot' })).toBeNull();
  });

  it('keeps the saved answers that pass the check, without their experiment key', () => {
    const good = { id: 'e1', strategy: 'entropy', repeat: 0, round: 1, position: 0, row: 40, label: -1, seconds: 1.5, truth: 3 };
    // Round 0 is kept too: on data without labels the person labels the initial set (no truth).
    expect(storedLabels([good, { ...good, label: -2 }, { ...good, round: 0, truth: null }, { ...good, round: -1 }, { ...good, seconds: -1 }, { ...good, truth: undefined }, 'junk'])).toEqual([
      { strategy: 'entropy', repeat: 0, round: 1, position: 0, row: 40, label: -1, seconds: 1.5, truth: 3 },
      { strategy: 'entropy', repeat: 0, round: 0, position: 0, row: 40, label: -1, seconds: 1.5, truth: null },
    ]);
  });

  it('keeps the saved drawn digits that pass the check', () => {
    const good = { id: 'e1', strategy: 'entropy', repeat: 0, round: 1, position: 0, label: 3, pixels: new Uint8Array(784) };
    expect(storedDrawn([good, { ...good, pixels: new Uint8Array(10) }, { ...good, pixels: [0] }, { ...good, label: -1 }, { ...good, round: 0 }, 'junk'])).toEqual([
      { strategy: 'entropy', repeat: 0, round: 1, position: 0, label: 3, pixels: new Uint8Array(784) },
    ]);
  });
});
