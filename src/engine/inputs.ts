/**
 * The inputs a strategy needs, gathered by its `needs` (as data: the loop never asks which
 * strategy it holds): softmax probabilities (temperature-scaled once calibrated), MC-dropout
 * samples, embeddings, raw inputs, the labeled set's embeddings.
 */
import { applyTemperature, applyTemperatureToSamples } from '../acquisition/calibration.ts';
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
      const raw = learner.predictMc(candidates, req.mcSamples, req.mcRng());
      inputs.mcSamples = raw;
      if (temperature !== null) {
        inputs.mcSamples = applyTemperatureToSamples(raw, temperature);
        raw.dispose();
      }
      await validateProbabilities(inputs.mcSamples, { rank: 3, name: `round ${round} MC-dropout predictions` });
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
  inputs.mcSamples?.dispose();
  inputs.embeddings?.dispose();
  inputs.inputs?.dispose();
  inputs.labeledEmbeddings?.dispose();
}
