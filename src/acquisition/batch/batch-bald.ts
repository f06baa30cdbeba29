/**
 * Greedy BatchBALD (Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch
 * Acquisition for Deep Bayesian Active Learning", NeurIPS 2019, Algorithm 1).
 *
 * BatchBALD scores a batch by the mutual information between its joint labels and the weights,
 *   a({x_1..x_n}) = I[y_1..y_n; w] = H[y_1..y_n] - Σ_i E_w H[y_i | w],
 * with the posterior over w approximated by the T MC-dropout passes w_1..w_T (each pass weighs
 * 1/T: p(y_1..n) = (1/T) Σ_t Π_i p_t(y_i)). `a` is submodular, so the greedy batch (add the row
 * with the largest gain, n = 0..k-1) is within 1 - 1/e of the best batch. The first pick is the
 * BALD maximiser; each later pick maximises the marginal gain
 *   Δ(b | A) = a(A ∪ {b}) - a(A) = H[y_b | y_A] - E_w H[y_b | w],
 * by the chain rule H[y_A, y_b] = H[y_A] + H[y_b | y_A]. The paper's code ranks candidates by
 * H[y_A, y_b] - E_w H[y_b | w]; that differs from Δ by H[y_A], the same for every candidate, so
 * the picks are the same.
 *
 * How H[y_b | y_A] is computed. For every joint configuration ŷ_A of the picked rows we keep its
 * probability π(ŷ_A) = p(ŷ_A) and the posterior over the passes, W[ŷ_A, t] = P(ŷ_A | w_t) /
 * Σ_s P(ŷ_A | w_s) (the paper's cached matrix of per-pass joint probabilities P(y_1..n | w_t),
 * normalised per configuration). Then p(y_b | ŷ_A) = Σ_t W[ŷ_A, t] p_t(y_b), i.e. one matrix
 * product W [M, T] x P [T, N·C] for all candidates at once, and
 *   H[y_b | y_A] ≈ Σ_ŷ π(ŷ) H[p(y_b | ŷ)].
 * - Exact, while C^n <= `exactLimit` (65,536): the configurations are all C^n of them (those of
 *   probability 0 dropped: they add nothing), with π their exact probabilities. Adding a pick b
 *   extends the cache in float64 on the CPU: configuration (ŷ, c) gets π(ŷ) r and W[ŷ, t] p_t(c) / r,
 *   with r = Σ_t W[ŷ, t] p_t(c). O(M T C) per pick.
 * - Sampled, beyond: the paper's estimator. M configurations are drawn from p(y_A), stratified
 *   over the passes as the authors' code does (S = floor(M / T) draws from each p(y_A | w_t),
 *   M_eff = S·T), each with weight 1 / M_eff; the estimate is the paper's importance-weighted
 *   -(1/M) Σ_m Σ_c p(ŷ_m, c) / p(ŷ_m) log p(ŷ_m, c) less its candidate-independent part
 *   -(1/M) Σ_m log p(ŷ_m), rearranged the same way. The samples are drawn once, when C^n first
 *   exceeds the limit, and then cached across greedy steps: each later pick extends every sample
 *   m with y_b ~ p_{t(m)}(y_b) from the sample's own pass t(m) (so each sample is still a draw
 *   from p(y_A)) and updates W in O(M T). The authors' code draws the samples afresh every
 *   step; both are unbiased at every step.
 * Normalised posteriors stay in [0, 1], so nothing underflows in float32 however long the
 * batch; the unnormalised P(y_1..n | w_t) of the paper would underflow float32 after ~40
 * uncertain picks, and tfjs has no float64.
 *
 * Work can be cut with `candidates`: after the first pick only the open rows with the highest
 * BALD are scored.
 *
 * Memory: no single tensor exceeds `chunkElements` (2^22) numbers: candidates are processed in
 * chunks of Nc rows and configurations in chunks of Mc, with Mc·max(T, C) <= 2^22,
 * Nc·C·Mc <= 2^22 and T·Nc·C <= 2^22. The CPU keeps M·T float64 posteriors (at most 65,536·T
 * exact or M_eff·T sampled). Work per pick: O(M·T·N·C) on the backend. Readback per pick: the N
 * gains and the pick's T x C probabilities; never the N x C matrix.
 *
 * Never picked: excluded rows, rows with any non-finite value, rows already picked. Ties go to
 * the lower index. Gains are clamped at 0 (a gain is an information, >= 0; float rounding can
 * push a duplicate's a few ulps below).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { SelectionError } from '../errors.ts';
import { bald } from '../measures/bald.ts';
import { checkShape, entropyNats } from '../measures/_shared.ts';
import { checkK, topKIndices } from '../select.ts';
import { CHUNK_ELEMENTS } from '../diversity/distance.ts';

/** Largest number of joint configurations C^n of the picked rows handled exactly. @default 65,536 */
export const EXACT_JOINT_LIMIT = 65_536;
/**
 * Sampled joint configurations M beyond the exact limit: 40,000, as the authors' code
 * (`num_samples_per_ws = 40000 // k`, k their number of MC passes).
 */
export const DEFAULT_JOINT_SAMPLES = 40_000;

export type JointEstimator = 'exact' | 'sampled';

export interface BatchBaldOptions {
  /** The stream of the sampled estimator's draws (not drawn from while the joint is exact). */
  rng: Rng;
  /** Mask of length N, non-zero = never picked (e.g. already labeled). @default null */
  exclude?: Uint8Array | null;
  /** Largest C^n (n = rows picked so far) whose joint is enumerated exactly. @default EXACT_JOINT_LIMIT */
  exactLimit?: number;
  /** Joint configurations M sampled beyond `exactLimit` (S = floor(M / T) per pass, at least 1). @default DEFAULT_JOINT_SAMPLES */
  jointSamples?: number;
  /** `samples` holds logits: probabilities are softmax over the last axis. @default false */
  fromLogits?: boolean;
  /** Most numbers any intermediate tensor may hold; at least T·C. @default CHUNK_ELEMENTS (2^22) */
  chunkElements?: number;
  /**
   * After the first pick, score only this many open rows: those with the highest BALD (ties to
   * the lower index), so a batch holds at most this many rows. The authors' code pre-filters
   * the pool by BALD in the same spirit; it cuts the work per pick in proportion.
   * @default every open row
   */
  candidates?: number;
}

export interface BatchBaldResult {
  /** Picked rows, in pick order (at most k; fewer when fewer rows are open). */
  indices: Int32Array;
  /**
   * The marginal gain of each pick, nats: gains[0] is its BALD score, gains[j] = a(A_j ∪ {x_j}) -
   * a(A_j). Their prefix sums are the batch's joint mutual information a(A_{j+1}) (exact while
   * the estimator was 'exact').
   */
  gains: Float64Array;
  /** How each pick's gains were computed. */
  estimators: JointEstimator[];
}

/**
 * Greedy BatchBALD over T MC-dropout passes: up to `k` rows in pick order with their marginal
 * gains. See the module comment for the estimators and their memory.
 *
 * @param samples [T, N, C] per-pass probabilities (or logits with `fromLogits`); the caller owns it.
 * @example
 *   const { indices, gains } = await batchBald(mc, 10, { rng: rng.fork('batchBald'), exclude: labeledMask });
 */
export async function batchBald(samples: tf.Tensor3D, k: number, options: BatchBaldOptions): Promise<BatchBaldResult> {
  const { t, n, c } = checkSamples(samples, 'batchBald');
  checkK(k);
  const o = resolveOptions(options, n, t, c, 'batchBald');
  const picks: number[] = [];
  const gains: number[] = [];
  const estimators: JointEstimator[] = [];
  const pass = await firstPass(samples, o);
  let subset: { rows: Int32Array; condEnt: tf.Tensor1D } | null = null;
  try {
    const blocked = new Uint8Array(n);
    for (let i = 0; i < n; i++) blocked[i] = (o.exclude !== null && o.exclude[i] !== 0) || pass.nonFinite[i] !== 0 ? 1 : 0;
    let open = 0;
    for (let i = 0; i < n; i++) if (blocked[i] === 0) open++;
    const want = Math.min(k, open);
    if (o.candidates < open && want > 1) {
      const rows = topKIndices(pass.bald, o.candidates, blocked).sort(); // the BALD leaders, in row order
      subset = { rows, condEnt: tf.tidy(() => tf.gather(pass.condEnt, tf.tensor1d(rows, 'int32'))) };
    }
    let state = exactStart(t);
    const picked: Float64Array[] = []; // [T * C] probabilities of each pick
    let values: ArrayLike<number> = pass.bald;
    for (let j = 0; j < want; j++) {
      if (j > 0 && subset === null) values = await gainsGiven(samples, state, pass.condEnt, o);
      else if (j > 0 && subset !== null) {
        const some = await gainsGiven(samples, state, subset.condEnt, o, subset.rows);
        const all = new Float32Array(n).fill(Number.NaN); // rows outside the subset: never picked
        subset.rows.forEach((r, i) => (all[r] = some[i]!));
        values = all;
      }
      const [b] = topKIndices(values, 1, blocked);
      if (b === undefined) break; // every open row scored NaN (the subset ran out, or all were non-finite)
      picks.push(b);
      gains.push(values[b]!);
      estimators.push(state.estimator);
      blocked[b] = 1;
      if (j + 1 < want) {
        const p = await rowProbs(samples, b, o.fromLogits);
        picked.push(p);
        state = extend(state, p, picked, t, c, o);
      }
    }
  } finally {
    pass.condEnt.dispose();
    subset?.condEnt.dispose();
  }
  return { indices: Int32Array.from(picks), gains: Float64Array.from(gains), estimators };
}

/**
 * The marginal gain Δ(b | A) = H[y_b | y_A] - E_w H[y_b | w] of every row b given the picked
 * rows `given` (nats; `given` empty gives BALD), by the same estimators as `batchBald`: exact
 * while C^|given| <= `exactLimit`, else sampled with `jointSamples` draws from `rng`.
 * Rows of `given` score about 0; nothing is excluded (the caller masks what it must).
 *
 * @param samples [T, N, C] per-pass probabilities (or logits with `fromLogits`)
 * @example
 *   const { gains } = await batchBaldGains(mc, [3, 17], { rng });  // what adding each row would add
 */
export async function batchBaldGains(
  samples: tf.Tensor3D,
  given: ArrayLike<number>,
  options: Omit<BatchBaldOptions, 'exclude' | 'candidates'>,
): Promise<{ gains: Float32Array; estimator: JointEstimator }> {
  const { t, n, c } = checkSamples(samples, 'batchBaldGains');
  const o = resolveOptions(options, n, t, c, 'batchBaldGains');
  for (let i = 0; i < given.length; i++) {
    const g = given[i]!;
    if (!Number.isInteger(g) || g < 0 || g >= n) throw new SelectionError(`batchBaldGains: given[${i}] = ${g} is not a row in [0, ${n})`);
  }
  const pass = await firstPass(samples, o);
  try {
    if (given.length === 0) return { gains: pass.bald, estimator: 'exact' };
    let state = exactStart(t);
    const picked: Float64Array[] = [];
    for (let i = 0; i < given.length; i++) {
      const p = await rowProbs(samples, given[i]!, o.fromLogits);
      picked.push(p);
      state = extend(state, p, picked, t, c, o);
    }
    return { gains: await gainsGiven(samples, state, pass.condEnt, o), estimator: state.estimator };
  } finally {
    pass.condEnt.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

interface Resolved {
  candidates: number;
  rng: Rng;
  exclude: Uint8Array | null;
  exactLimit: number;
  jointSamples: number;
  fromLogits: boolean;
  chunkElements: number;
}

/**
 * The cached joint: M configurations of the picked rows, each with its weight π (exact: its
 * probability; sampled: 1 / M) and the posterior over the T passes W[m, t] (rows sum to 1).
 */
interface JointState {
  estimator: JointEstimator;
  m: number;
  /** [m * T], row-major. */
  w: Float64Array;
  /** [m]. */
  weight: Float64Array;
  /** Sampled only: the pass each sample was drawn from, [m]. */
  pass: Int32Array | null;
  /** Number of picked rows the state covers. */
  rows: number;
}

function checkSamples(samples: tf.Tensor3D, what: string): { t: number; n: number; c: number } {
  checkShape(samples, 3, what);
  const [t, n, c] = samples.shape;
  if (t === 0) throw new SelectionError(`${what}: needs at least one MC pass, got shape [${samples.shape.join(', ')}]`);
  return { t, n, c };
}

function resolveOptions(options: Omit<BatchBaldOptions, 'exclude'> & { exclude?: Uint8Array | null }, n: number, t: number, c: number, what: string): Resolved {
  if (options === undefined || options === null || typeof options.rng?.next !== 'function') {
    throw new SelectionError(`${what}: options.rng (an Rng) is required`);
  }
  const exclude = options.exclude ?? null;
  if (exclude !== null && (!(exclude instanceof Uint8Array) || exclude.length !== n)) {
    throw new SelectionError(`${what}: exclude must be a Uint8Array mask of length ${n} (one per row), got ${exclude instanceof Uint8Array ? `length ${exclude.length}` : typeof exclude}`);
  }
  const exactLimit = options.exactLimit ?? EXACT_JOINT_LIMIT;
  if (!Number.isInteger(exactLimit) || exactLimit < 1) throw new SelectionError(`${what}: exactLimit must be a positive integer, got ${exactLimit}`);
  const jointSamples = options.jointSamples ?? DEFAULT_JOINT_SAMPLES;
  if (!Number.isInteger(jointSamples) || jointSamples < 1) throw new SelectionError(`${what}: jointSamples must be a positive integer, got ${jointSamples}`);
  const chunkElements = options.chunkElements ?? CHUNK_ELEMENTS;
  if (!Number.isInteger(chunkElements) || chunkElements < t * c) {
    throw new SelectionError(`${what}: chunkElements must be an integer >= T·C = ${t * c} (one candidate's passes), got ${chunkElements}`);
  }
  const candidates = (options as BatchBaldOptions).candidates ?? Infinity;
  if (!(candidates === Infinity || (Number.isInteger(candidates) && candidates >= 1))) {
    throw new SelectionError(`${what}: candidates must be a positive integer, got ${candidates}`);
  }
  return { rng: options.rng, exclude, exactLimit, jointSamples, fromLogits: options.fromLogits ?? false, chunkElements, candidates };
}

/**
 * Rows [start, start + size) of the [T, N, C] samples along axis 1 (the tensor itself for all
 * rows). On wasm by gather: tfjs-backend-wasm 4.22's Slice reads its whole input back first.
 */
function candidateRows(samples: tf.Tensor3D, start: number, size: number, rows: Int32Array | null = null): tf.Tensor3D {
  const n = samples.shape[1];
  if (rows !== null) return tf.gather(samples, tf.tensor1d(rows.subarray(start, start + size), 'int32'), 1);
  if (start === 0 && size === n) return samples;
  if (tf.getBackend() === 'wasm') return tf.gather(samples, tf.range(start, start + size, 1, 'int32'), 1);
  return tf.slice(samples, [0, start, 0], [-1, size, -1]);
}

/** Candidate rows per chunk of a pass that makes [T, rows, C] intermediates. */
const rowsPerChunk = (n: number, t: number, c: number, limit: number) => Math.max(1, Math.min(n, Math.floor(limit / (t * c))));

/**
 * One chunked pass over the candidates: BALD (the first pick's gains), E_w H[y | w] (kept on the
 * backend for the later picks) and which rows hold a non-finite value.
 */
async function firstPass(samples: tf.Tensor3D, o: Resolved): Promise<{ bald: Float32Array; condEnt: tf.Tensor1D; nonFinite: Uint8Array }> {
  const [t, n, c] = samples.shape;
  if (n === 0) return { bald: new Float32Array(0), condEnt: tf.zeros([0]) as tf.Tensor1D, nonFinite: new Uint8Array(0) };
  const chunk = rowsPerChunk(n, t, c, o.chunkElements);
  const baldParts: tf.Tensor[] = [];
  const condParts: tf.Tensor[] = [];
  const badParts: tf.Tensor[] = [];
  const joined: tf.Tensor[] = [];
  try {
    for (let s = 0; s < n; s += chunk) {
      const size = Math.min(chunk, n - s);
      const [b, h, bad] = tf.tidy(() => {
        const x = candidateRows(samples, s, size); // [T, Nc, C]
        const expected = tf.mean(entropyNats(x, o.fromLogits), 0); // [T, Nc] -> [Nc]
        const nonFinite = tf.logicalNot(tf.all(tf.isFinite(x), [0, 2])); // [Nc]
        return [bald(x, { fromLogits: o.fromLogits }), expected, nonFinite];
      });
      baldParts.push(b!);
      condParts.push(h!);
      badParts.push(bad!);
    }
    // (concat of one tensor is a cheap clone, so the parts are always disposed)
    const [baldAll, badAll] = [tf.concat(baldParts, 0), tf.concat(badParts, 0)];
    joined.push(baldAll, badAll);
    const condEnt = tf.concat(condParts, 0) as tf.Tensor1D;
    const [baldValues, bad] = await Promise.all([baldAll.data(), badAll.data()]).catch((e: unknown) => {
      condEnt.dispose();
      throw e;
    });
    return { bald: baldValues as Float32Array, condEnt, nonFinite: Uint8Array.from(bad) };
  } finally {
    tf.dispose([...baldParts, ...condParts, ...badParts, ...joined]);
  }
}

/** The T x C probabilities of row b, float64, pass-major: p[t * C + c]. */
async function rowProbs(samples: tf.Tensor3D, b: number, fromLogits: boolean): Promise<Float64Array> {
  const [t, , c] = samples.shape;
  const row = tf.tidy(() => {
    const r = tf.reshape(tf.gather(samples, tf.tensor1d([b], 'int32'), 1), [t, c]);
    return fromLogits ? tf.softmax(r, -1) : r;
  });
  try {
    return Float64Array.from(await row.data());
  } finally {
    row.dispose();
  }
}

/** The empty batch: one configuration, weight 1, uniform posterior over the passes. */
function exactStart(t: number): JointState {
  return { estimator: 'exact', m: 1, w: new Float64Array(t).fill(1 / t), weight: Float64Array.of(1), pass: null, rows: 0 };
}

/** Adds the pick with probabilities `p` ([T * C]); `picked` holds every pick so far, `p` last. */
function extend(state: JointState, p: Float64Array, picked: readonly Float64Array[], t: number, c: number, o: Resolved): JointState {
  const rows = state.rows + 1;
  if (state.estimator === 'exact' && Math.pow(c, rows) <= o.exactLimit) return extendExact(state, p, t, c);
  if (state.estimator === 'exact') return sampleJoint(picked, t, c, o.jointSamples, o.rng);
  return extendSampled(state, p, t, c, o.rng);
}

/** Exact: configuration (ŷ, y) gets π(ŷ) r and W[ŷ, ·] p_·(y) / r, r = Σ_t W[ŷ, t] p_t(y); π = 0 dropped. */
function extendExact(state: JointState, p: Float64Array, t: number, c: number): JointState {
  const w = new Float64Array(state.m * c * t);
  const weight = new Float64Array(state.m * c);
  let m = 0;
  for (let i = 0; i < state.m; i++) {
    const wi = i * t;
    for (let y = 0; y < c; y++) {
      let r = 0;
      for (let s = 0; s < t; s++) r += state.w[wi + s]! * p[s * c + y]!;
      const pi = state.weight[i]! * r;
      if (!(pi > 0)) continue;
      const wo = m * t;
      for (let s = 0; s < t; s++) w[wo + s] = (state.w[wi + s]! * p[s * c + y]!) / r;
      weight[m++] = pi;
    }
  }
  return { estimator: 'exact', m, w: w.subarray(0, m * t), weight: weight.subarray(0, m), pass: null, rows: state.rows + 1 };
}

/** A draw from the categorical distribution p[off .. off + c) (sums to 1 up to rounding). */
function drawClass(p: Float64Array, off: number, c: number, rng: Rng): number {
  const u = rng.next();
  let cum = 0;
  let last = -1;
  for (let y = 0; y < c; y++) {
    const v = p[off + y]!;
    if (v > 0) last = y;
    cum += v;
    if (u < cum && v > 0) return y;
  }
  return last < 0 ? 0 : last; // u beyond the rounded total: the last class with mass
}

/** Multiplies sample m's posterior by the likelihood of class y of the pick p and renormalises. */
function observe(w: Float64Array, m: number, t: number, c: number, p: Float64Array, y: number, own: number): void {
  const o = m * t;
  let z = 0;
  for (let s = 0; s < t; s++) {
    const v = w[o + s]! * p[s * c + y]!;
    w[o + s] = v;
    z += v;
  }
  if (z > 0) {
    for (let s = 0; s < t; s++) w[o + s] = w[o + s]! / z;
  } else {
    // Every pass with posterior mass gives y probability 0 (reachable only by float64
    // underflow of the sample's own pass): fall back to the pass it was drawn from.
    w.fill(0, o, o + t);
    w[o + own] = 1;
  }
}

/**
 * Sampled: S = floor(M / T) (at least 1) configurations drawn from each p(y_A | w_t), the
 * classes of each picked row in pick order; each weighs 1 / (S·T).
 */
function sampleJoint(picked: readonly Float64Array[], t: number, c: number, jointSamples: number, rng: Rng): JointState {
  const per = Math.max(1, Math.floor(jointSamples / t));
  const m = per * t;
  const w = new Float64Array(m * t).fill(1 / t);
  const pass = new Int32Array(m);
  for (let s = 0; s < t; s++) for (let j = 0; j < per; j++) pass[s * per + j] = s;
  for (const p of picked) {
    for (let i = 0; i < m; i++) observe(w, i, t, c, p, drawClass(p, pass[i]! * c, c, rng), pass[i]!);
  }
  return { estimator: 'sampled', m, w, weight: new Float64Array(m).fill(1 / m), pass, rows: picked.length };
}

/** Sampled, cached: each sample draws the new pick's class from its own pass. */
function extendSampled(state: JointState, p: Float64Array, t: number, c: number, rng: Rng): JointState {
  const pass = state.pass!;
  const w = state.w; // updated in place: the previous state is not used again
  for (let i = 0; i < state.m; i++) observe(w, i, t, c, p, drawClass(p, pass[i]! * c, c, rng), pass[i]!);
  return { ...state, w, rows: state.rows + 1 };
}

/**
 * Δ(b | A) for every row (or for the rows `rows`, in that order, with `condEnt` theirs):
 * Σ_m π_m H[Σ_t W[m, t] p_t(y_b)] - E_w H[y_b | w], clamped at 0, read back. Chunked over
 * configurations (Mc) and candidates (Nc) within `chunkElements`.
 */
async function gainsGiven(samples: tf.Tensor3D, state: JointState, condEnt: tf.Tensor1D, o: Resolved, rows: Int32Array | null = null): Promise<Float32Array> {
  const [t, , c] = samples.shape;
  const n = rows === null ? samples.shape[1] : rows.length;
  if (n === 0) return new Float32Array(0);
  const limit = o.chunkElements;
  const mc = Math.max(1, Math.min(state.m, Math.floor(limit / Math.max(t, c))));
  const nc = Math.max(1, Math.min(rowsPerChunk(n, t, c, limit), Math.floor(limit / (mc * c))));
  const wChunks: { w: tf.Tensor2D; pi: tf.Tensor2D }[] = [];
  const parts: tf.Tensor[] = [];
  let total: tf.Tensor | null = null;
  try {
    for (let s = 0; s < state.m; s += mc) {
      const size = Math.min(mc, state.m - s);
      wChunks.push({
        w: tf.tensor2d(Float32Array.from(state.w.subarray(s * t, (s + size) * t)), [size, t]),
        pi: tf.tensor2d(Float32Array.from(state.weight.subarray(s, s + size)), [1, size]),
      });
    }
    for (let s = 0; s < n; s += nc) {
      const size = Math.min(nc, n - s);
      parts.push(
        tf.tidy(() => {
          const x = candidateRows(samples, s, size, rows); // [T, Nc, C]
          const p = tf.reshape(o.fromLogits ? tf.softmax(x, -1) : x, [t, size * c]); // [T, Nc*C]
          let acc: tf.Tensor | null = null;
          for (const { w, pi } of wChunks) {
            const r = tf.reshape(tf.matMul(w, p), [w.shape[0], size, c]); // [Mc, T] x [T, Nc*C] -> [Mc, Nc, C]
            const h = entropyNats(r, false); // [Mc, Nc]: H[p(y_b | ŷ_m)]
            const part = tf.matMul(pi, h); // [1, Mc] x [Mc, Nc] -> [1, Nc]
            acc = acc === null ? part : tf.add(acc, part);
          }
          return tf.reshape(acc!, [size]);
        }),
      );
    }
    total = tf.tidy(() => tf.relu(tf.sub(parts.length === 1 ? parts[0]! : tf.concat(parts, 0), condEnt)));
    return (await total.data()) as Float32Array;
  } finally {
    for (const { w, pi } of wChunks) tf.dispose([w, pi]);
    tf.dispose(parts);
    total?.dispose();
  }
}
