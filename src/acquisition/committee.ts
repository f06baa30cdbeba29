/**
 * Query-by-committee measures (Seung, Opper & Sompolinsky 1992; as defined in Settles, "Active
 * Learning Literature Survey", 2009, section 3.3, and modAL's `disagreement` module) over M
 * committee members' predictions [M, N, C] -> [N], higher = the members disagree more (ask first).
 *
 * - voteEntropy:      VE = -Σ_c (V_c / M) log (V_c / M), V_c = the number of members whose argmax
 *                     is c (a member's tie goes to the lower class index). modAL: `vote_entropy`.
 * - consensusEntropy: CE = H[p̄], p̄ = (1/M) Σ_m p_m, the committee's mean probabilities ("soft vote
 *                     entropy" in Settles). modAL: `consensus_entropy`.
 * - maxDisagreement:  KL = (1/M) Σ_m D_KL(p_m || p̄), the mean Kullback-Leibler divergence of each
 *                     member from the consensus (McCallum & Nigam 1998; Settles' eq. 3.5).
 *                     `{reduce: 'max'}` gives max_m D_KL(p_m || p̄) instead, which is what modAL's
 *                     `KL_max_disagreement` returns. The mean equals H[p̄] - (1/M) Σ_m H[p_m]
 *                     (the committee's BALD).
 * All in nats, 0 log 0 = 0. A row with any non-finite value in any member scores NaN, so the
 * selector never picks it. Each function returns a new tensor the caller owns.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidProbabilitiesError } from './errors.ts';
import { logFloor } from '../backend/precision.ts';
import { entropyNats, probsOf, type MeasureOptions } from './measures/_shared.ts';

export interface MaxDisagreementOptions extends MeasureOptions {
  /** Mean over members (Settles, the default) or max (modAL's KL_max_disagreement). @default 'mean' */
  reduce?: 'mean' | 'max';
}

function checkCommittee(x: tf.Tensor, what: string): void {
  if (!(x instanceof tf.Tensor)) throw new InvalidProbabilitiesError(`${what}: expected a tf.Tensor [M, N, C], got ${x === null ? 'null' : typeof x}`);
  if (x.rank !== 3) throw new InvalidProbabilitiesError(`${what}: expected the members' predictions as a rank-3 tensor [M, N, C], got shape [${x.shape.join(', ')}]`);
  if (x.shape[0] === 0 || x.shape[2] === 0) throw new InvalidProbabilitiesError(`${what}: needs at least one member and one class, got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new InvalidProbabilitiesError(`${what}: expected dtype float32, got ${x.dtype}`);
}

/** NaN where any member's row holds a non-finite value; call inside a tidy. [M, N, C], [N] -> [N] */
function nanWhereNonFinite(x: tf.Tensor, value: tf.Tensor): tf.Tensor1D {
  const bad = tf.logicalNot(tf.all(tf.isFinite(x), [0, 2]));
  return tf.where(bad, tf.fill([value.size], Number.NaN), value) as tf.Tensor1D;
}

/**
 * Vote entropy: the entropy of the members' hard votes.
 * @param members [M, N, C] probabilities or logits (the argmax is the same)
 * @example
 *   voteEntropy(tf.tensor3d([[[0.9, 0.1]], [[0.2, 0.8]]]))  // [log 2]: one vote each
 */
export function voteEntropy(members: tf.Tensor, _options: MeasureOptions = {}): tf.Tensor1D {
  checkCommittee(members, 'voteEntropy');
  const [m, , c] = members.shape as [number, number, number];
  return tf.tidy(() => {
    const votes = tf.sum(tf.oneHot(tf.argMax(members, -1), c), 0); // [M, N] -> [M, N, C] -> [N, C]
    const share = tf.div(tf.cast(votes, 'float32'), m);
    return nanWhereNonFinite(members, entropyNats(share, false));
  });
}

/**
 * Consensus entropy: the entropy of the committee's mean probabilities.
 * @param members [M, N, C] probabilities (or logits with `{fromLogits: true}`)
 * @example
 *   consensusEntropy(tf.tensor3d([[[0.9, 0.1]], [[0.1, 0.9]]]))  // [log 2]
 */
export function consensusEntropy(members: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkCommittee(members, 'consensusEntropy');
  return tf.tidy(() => nanWhereNonFinite(members, entropyNats(tf.mean(probsOf(members, options.fromLogits), 0), false)));
}

/**
 * Mean (or max) KL divergence of each member from the consensus.
 * @param members [M, N, C] probabilities (or logits with `{fromLogits: true}`)
 * @example
 *   maxDisagreement(tf.tensor3d([[[1, 0]], [[0, 1]]]))  // [log 2]: each member is log 2 from [0.5, 0.5]
 */
export function maxDisagreement(members: tf.Tensor, options: MaxDisagreementOptions = {}): tf.Tensor1D {
  checkCommittee(members, 'maxDisagreement');
  const reduce = options.reduce ?? 'mean';
  if (reduce !== 'mean' && reduce !== 'max') throw new RangeError(`maxDisagreement: reduce must be 'mean' or 'max', got '${String(reduce)}'`);
  return tf.tidy(() => {
    const floor = logFloor();
    const p = probsOf(members, options.fromLogits); // [M, N, C]
    // log p_m: exact from logits; from probabilities floored as in entropy (0 log 0 = 0)
    const logP = options.fromLogits ? tf.logSoftmax(members, -1) : tf.log(tf.maximum(p, floor));
    const logMean = tf.log(tf.maximum(tf.mean(p, 0, true), floor)); // [1, N, C]; p̄_c >= p_mc / M
    const kl = tf.relu(tf.sum(tf.mul(p, tf.sub(logP, logMean)), -1)); // [M, N], >= 0 (rounding clamped)
    const value = reduce === 'mean' ? tf.mean(kl, 0) : tf.max(kl, 0); // [N]
    return nanWhereNonFinite(members, value);
  });
}
