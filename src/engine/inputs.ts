/**
 * The inputs a strategy needs, gathered by its `needs` (as data: the loop never asks which
 * strategy it holds): softmax probabilities (temperature-scaled once calibrated), MC-dropout
 * samples, embeddings, raw inputs, the labeled set's embeddings.
 */
import * as tf from '@tensorflow/tfjs';
import { applyTemperature } from '../acquisition/calibration.ts';
import type { AcquisitionInputs, Need } from '../acquisition/strategies.ts';
import { validateProbabilities } from '../acquisition/validate.ts';
import type { Rng } from '../rng.ts';
import type { Learner } from './learner.ts';
import type { AddedExample } from './oracle.ts';
import type { DatasetRows } from './rows.ts';

export interface InputsRequest {
  learner: Learner;
  /** The rows to score. */
  candidates: DatasetRows;
  /** The rows labeled so far, and the added examples that are not rows (for 'labeledEmbeddings'). */
  labeled: () => DatasetRows;
  added?: () => readonly AddedExample[];
  numClasses: number;
  /** The temperature fitted after the previous round's training; null uncalibrated. */
  temperature: number | null;
  /** MC-dropout passes, and the round's stream for their masks. */
  mcSamples: number;
  mcRng: () => Rng;
  /** The strategy's own stream. */
  rng: Rng;
  /** Names the predictions in an error ("round 3 predictions"). */
  round: number;
  /**
   * For 'committee': M members, and how to train member m >= 1 on the labeled set (a fresh
   * learner, from its own stream; the caller's learner is member 0). Each member is trained,
   * predicts the candidates and is disposed before the next is built, so at most one member's
   * model and training tensors are alive at a time.
   */
  committee?: { members: number; train: (member: number) => Promise<Learner> };
}

/**
 * Computes what `needs` lists over the candidates, checking every probability tensor. The
 * tensors are the caller's (`disposeInputs`); if gathering fails, those made so far are freed.
 */
export async function gatherInputs(needs: readonly Need[], req: InputsRequest): Promise<AcquisitionInputs> {
  const { learner, candidates, temperature, round } = req;
  const inputs: AcquisitionInputs = { n: candidates.length, numClasses: req.numClasses, rng: req.rng };
  try {
    if (needs.includes('probs')) {
      inputs.probs = temperature === null ? learner.predictProbs(candidates) : calibrated(learner, candidates, temperature);
      await validateProbabilities(inputs.probs, { name: `round ${round} predictions` });
    }
    if (needs.includes('mcSamples')) {
      const raw = learner.predictMcLogits(candidates, req.mcSamples, req.mcRng(), { consistent: needs.includes('jointMcSamples') });
      inputs.mcLogits = raw;
      if (temperature !== null) {
        inputs.mcLogits = tf.tidy(() => tf.div(raw, temperature) as tf.Tensor3D); // softmax(z / T) per pass
        raw.dispose();
      }
      const probs = tf.tidy(() => tf.softmax(inputs.mcLogits!, -1));
      try {
        await validateProbabilities(probs, { rank: 3, name: `round ${round} MC-dropout predictions` });
      } finally {
        probs.dispose();
      }
    }
    if (needs.includes('committee')) {
      inputs.committee = await committeeProbs(req);
      await validateProbabilities(inputs.committee, { rank: 3, name: `round ${round} committee predictions` });
    }
    if (needs.includes('embeddings')) inputs.embeddings = learner.embed(candidates);
    if (needs.includes('inputs')) inputs.inputs = learner.inputs(candidates);
    if (needs.includes('labeledEmbeddings')) {
      const added = req.added?.() ?? [];
      inputs.labeledEmbeddings = added.length ? learner.embed(req.labeled(), added) : learner.embed(req.labeled());
    }
    return inputs;
  } catch (err) {
    disposeInputs(inputs);
    throw err;
  }
}

/**
 * [M, N, C]: the candidates' softmax probabilities of every member, uncalibrated (the members
 * other than the run's own model have no fitted temperature). Member 0 is the run's model.
 */
async function committeeProbs(req: InputsRequest): Promise<tf.Tensor3D> {
  const spec = req.committee;
  if (!spec) throw new Error(`round ${req.round}: a committee strategy needs the loop's committee (InputsRequest.committee)`);
  const parts: tf.Tensor2D[] = [];
  try {
    parts.push(req.learner.predictProbs(req.candidates));
    for (let m = 1; m < spec.members; m++) {
      const member = await spec.train(m);
      try {
        parts.push(member.predictProbs(req.candidates));
      } finally {
        member.dispose();
      }
    }
    return tf.stack(parts) as tf.Tensor3D;
  } finally {
    tf.dispose(parts);
  }
}

/** softmax(z / T) of the candidates' logits z. */
function calibrated(learner: Learner, candidates: DatasetRows, temperature: number) {
  const logits = learner.predictLogits(candidates);
  try {
    return applyTemperature(logits, temperature, { fromLogits: true });
  } finally {
    logits.dispose();
  }
}

/** Frees every tensor `gatherInputs` made. */
export function disposeInputs(inputs: AcquisitionInputs): void {
  inputs.probs?.dispose();
  inputs.mcLogits?.dispose();
  inputs.committee?.dispose();
  inputs.embeddings?.dispose();
  inputs.inputs?.dispose();
  inputs.labeledEmbeddings?.dispose();
}
