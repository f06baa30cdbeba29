/**
 * The oracle of a labeling run ("Label it yourself"): each round's batch goes to the page as a
 * `query` (the rows, their pixels or coordinates, the current model's top-3 guesses) and the run
 * waits for the page's `labels`. While it waits, the model is idle: the drawing pad may ask it for
 * the probabilities of a drawn digit.
 */
import type { Dataset } from '../../../datasets/index.ts';
import type { Learner, LearnerFactory } from '../../engine/learner.ts';
import type { AddedExample, Oracle, OracleQuery } from '../../engine/oracle.ts';
import { asDatasetRows } from '../../engine/rows.ts';
import type { FromHost, LabelQuery } from '../protocol.ts';
import { exampleProbs, topGuesses } from './guesses.ts';

/** The page's answer: the labels, and the drawn digits added with them. */
interface Answer {
  labels: number[];
  added: AddedExample[];
}

export class HumanOracle {
  /** The learner of the run being labeled (the one the wrapped factory made last). */
  private learner: Learner | null = null;
  private pending: { id: number; resolve: (answer: Answer) => void; reject: (err: unknown) => void } | null = null;
  private seq = 0;
  /** The round of the batch waiting for labels (null when none waits). */
  private pendingRound: number | null = null;

  constructor(
    private readonly post: (msg: FromHost, transfer?: Transferable[]) => void,
    private readonly ds: Dataset<string>,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.pending?.reject(new DOMException('the labeling run was stopped', 'AbortError')), { once: true });
  }

  /** The learners of the run, as `factory` makes them, kept so the oracle can ask the current model. */
  wrap(factory: LearnerFactory): LearnerFactory {
    return (ctx) => {
      const learner = factory(ctx);
      this.learner = learner;
      return {
        ...learner,
        dispose: () => {
          if (this.learner === learner) this.learner = null;
          learner.dispose();
        },
      };
    };
  }

  /** The oracle: posts the batch with the model's guesses, resolves with the page's labels (and the digits it added). */
  readonly ask: Oracle = async (q: OracleQuery): Promise<Answer> => {
    const learner = this.learner;
    if (!learner) throw new Error('the labeling run has no model to show guesses from');
    const rows = asDatasetRows(Int32Array.from(q.indices));
    // Round 0 of data without labels asks before any model is trained: no guesses yet.
    const top = q.round === 0 ? { classes: new Int32Array(0), probs: new Float32Array(0), k: 0 } : await topGuesses(learner, rows);
    const { ds } = this;
    const d = ds.shape.reduce((a, b) => a * b, 1);
    let pixels: Uint8Array | null = null;
    let points: Float32Array | null = null;
    if (ds.kind === 'image' && ds.train.x instanceof Uint8Array) {
      const x = ds.train.x;
      pixels = new Uint8Array(rows.length * d);
      rows.forEach((r, k) => pixels!.set(x.subarray(r * d, (r + 1) * d), k * d));
    } else if (ds.kind === 'points' && d === 2 && ds.train.x instanceof Float32Array) {
      const x = ds.train.x;
      points = new Float32Array(rows.length * 2);
      rows.forEach((r, k) => points!.set(x.subarray(r * 2, r * 2 + 2), k * 2));
    }
    // The dataset's labels, for agreement; none on data without labels (never read there).
    const truth = ds.unlabeled ? null : Uint8Array.from(rows, (r) => ds.train.y[r]!);
    if (this.signal.aborted) throw new DOMException('the labeling run was stopped', 'AbortError');
    const id = ++this.seq;
    const query: LabelQuery = { id, strategy: q.strategy, repeat: q.repeat, round: q.round, indices: rows, truth, pixels, points, top };
    const answer = new Promise<Answer>((resolve, reject) => (this.pending = { id, resolve, reject }));
    this.pendingRound = q.round;
    const transfer: Transferable[] = [rows.buffer, top.classes.buffer, top.probs.buffer];
    if (truth) transfer.push(truth.buffer);
    if (pixels) transfer.push(pixels.buffer);
    if (points) transfer.push(points.buffer);
    this.post({ type: 'query', query }, transfer);
    try {
      return await answer;
    } finally {
      this.pending = null;
      this.pendingRound = null;
    }
  };

  /** The page's answer to query `id`, with the examples it adds (the loop checks both); an answer to an older query is ignored. */
  answer(id: number, labels: number[], added: AddedExample[] = []): void {
    if (this.pending?.id === id) this.pending.resolve({ labels, added });
  }

  /** The drawing pad: the current model's probabilities for a drawn example, while the run waits for labels. */
  async predict(id: number, pixels: Uint8Array): Promise<void> {
    try {
      if (!this.pending || !this.learner) throw new Error('the model is training: the pad answers while a batch waits for labels');
      if (this.pendingRound === 0) throw new Error('no model yet: the first one trains on the initial set you are labeling');
      const probs = await exampleProbs(this.learner, pixels, this.ds.shape);
      this.post({ type: 'digit', id, probs, error: null });
    } catch (err) {
      this.post({ type: 'digit', id, probs: null, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
