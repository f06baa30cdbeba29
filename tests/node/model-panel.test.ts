/**
 * The Model panel's data: the summary rows the compute host builds from a tfjs model
 * (src/app/host/model-summary.ts), the table data the page hands tfjs-vis's `render.table` (which
 * writes cells as HTML: every string escaped), and the per-class accuracy from confusion counts.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel, disposeModel } from '../../models/index.ts';
import { describeModel, formatShape, summarizeModel } from '../../src/app/host/model-summary.ts';
import type { ModelSummary } from '../../src/app/protocol.ts';
import { escapeHtml, perClassAccuracy, summaryTable, SUMMARY_HEADERS } from '../../src/app/views/model-panel.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend } from '../support/backends.ts';

describe('model summary rows (built in the host)', () => {
  onBackend('cpu');

  it('logreg and mlp on MNIST: layers, output shapes and parameter counts as computed by hand', () => {
    const logreg = describeModel('logreg', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    expect(logreg.layers.map((l) => [l.type, l.outputShape, l.params, l.trainable])).toEqual([
      ['Reshape', '[null, 784]', 0, false],
      ['Dense', '[null, 10]', 784 * 10 + 10, true],
      ['Activation', '[null, 10]', 0, false],
    ]);
    expect(logreg).toMatchObject({ model: 'logreg', totalParams: 7850, trainableParams: 7850 });

    const mlp = describeModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    expect(mlp.layers.map((l) => [l.type, l.outputShape, l.params])).toEqual([
      ['Reshape', '[null, 784]', 0],
      ['Dense', '[null, 128]', 784 * 128 + 128],
      ['Dropout', '[null, 128]', 0],
      ['Dense', '[null, 10]', 128 * 10 + 10],
      ['Activation', '[null, 10]', 0],
    ]);
    expect(mlp.totalParams).toBe(100_480 + 1_290);
  });

  it("the CNN: every layer, totals equal to tfjs's own count; builds and disposes without leaking a tensor", () => {
    describeModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 2 }); // warm-up
    const before = tf.memory().numTensors;
    const s = describeModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const model = createModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, rng: new Rng(2) });
    try {
      expect(s.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      expect(s.layers.map((l) => l.outputShape)).toEqual(model.layers.map((l) => `[${(l.outputShape as (number | null)[]).map(String).join(', ')}]`));
      expect(s.totalParams).toBe(model.countParams());
      expect(s.trainableParams).toBe(model.countParams());
      expect(s.layers.filter((l) => l.type === 'Conv2D').length).toBeGreaterThan(0);
      expect(summarizeModel(model, 'cnn')).toEqual(s);
    } finally {
      disposeModel(model);
    }
  });

  it('formats single and multiple output shapes', () => {
    expect(formatShape([null, 28, 28, 32])).toBe('[null, 28, 28, 32]');
    expect(formatShape([[null, 4], [null, 2]])).toBe('[null, 4], [null, 2]');
  });
});

describe('the summary table handed to tfjs-vis (cells written as HTML)', () => {
  it('escapes &, <, >, " and \'', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&amp;`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;amp;');
    expect(escapeHtml('dense_1')).toBe('dense_1');
  });

  it('every string cell and header is escaped; numbers stay numbers (tfjs-vis formats them)', () => {
    const summary: ModelSummary = {
      model: 'x', totalParams: 12, trainableParams: 12,
      layers: [{ name: '<b>evil</b>', type: 'Dense"', outputShape: "[null, 10]'", params: 12, trainable: true }, { name: 'act', type: 'Activation', outputShape: '[null, 10]', params: 0, trainable: false }],
    };
    expect(summaryTable(summary)).toEqual({
      headers: SUMMARY_HEADERS,
      values: [
        ['&lt;b&gt;evil&lt;/b&gt;', 'Dense&quot;', '[null, 10]&#39;', 12, 'yes'],
        ['act', 'Activation', '[null, 10]', 0, 'no'],
      ],
    });
    for (const cell of summaryTable(summary).values.flat()) if (typeof cell === 'string') expect(cell).not.toMatch(/[<>"']/);
  });
});

describe('per-class accuracy from confusion counts', () => {
  it('right / test rows of each class; a class without test rows has no bar', () => {
    // rows: true class; columns: predicted
    expect(perClassAccuracy([3, 1, 0, 0, 2, 0, 0, 0, 0], ['a', 'b', 'c'])).toEqual([{ index: 'a', value: 0.75 }, { index: 'b', value: 1 }]);
    expect(perClassAccuracy([0, 5, 5, 0], ['0', '1'])).toEqual([{ index: '0', value: 0 }, { index: '1', value: 0 }]);
  });

  it('refuses counts of the wrong size, saying what it expected', () => {
    expect(() => perClassAccuracy([1, 2, 3], ['a', 'b'])).toThrow('expected 2 x 2 = 4 for 2 classes, got 3');
  });
});
