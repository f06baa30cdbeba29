/**
 * Kernel benchmark, shared by Node and the browser page: score + select over an N x C pool,
 * tensorized (ActiveLab's strategies and selector) against the seed 001 approach (read the
 * probabilities back, loop per row in JS, sort), on the active backend.
 */
import * as tf from '@tensorflow/tfjs';
import { acquire, STRATEGIES } from '../src/index.ts';
import { Rng } from '../src/rng.ts';

export interface KernelRecord {
  backend: string;
  measure: 'entropy' | 'margin';
  n: number;
  c: number;
  k: number;
  /** Median wall time of score + select with ActiveLab's kernels (ms). */
  tensorizedMs: number;
  /** Median wall time of the seed 001 per-row loop, probabilities read back first (ms). */
  perRowMs: number;
  /** Runs the medians are taken over (after warm-up runs that are not timed). */
  runs: number;
  /** Both approaches picked the same k rows. */
  samePicks: boolean;
}

export interface KernelBenchOptions {
  n?: number;
  c?: number;
  k?: number;
  runs?: number;
  warmup?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Seed 001, per row: margin = sorted[0] - sorted[1]; entropy = -sum p log(p + 1e-12). Then argsort. */
async function perRow(probs: tf.Tensor2D, measure: 'entropy' | 'margin', k: number): Promise<Int32Array> {
  const [n, c] = probs.shape;
  const flat = await probs.data(); // N x C floats back to JS
  const informativeness = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = Array.from(flat.subarray(i * c, (i + 1) * c));
    if (measure === 'margin') {
      const sorted = row.sort((a, b) => b - a);
      informativeness[i] = -(sorted[0]! - sorted[1]!);
    } else {
      let h = 0;
      for (const p of row) h -= p * Math.log(p + 1e-12);
      informativeness[i] = h;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => informativeness[b]! - informativeness[a]! || a - b);
  return Int32Array.from(order.slice(0, k));
}

async function tensorized(probs: tf.Tensor2D, measure: 'entropy' | 'margin', k: number): Promise<Int32Array> {
  const r = await acquire(STRATEGIES[measure], { n: probs.shape[0], probs, rng: new Rng(1) }, k);
  return r.indices;
}

async function timeIt(f: () => Promise<unknown>, runs: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Benchmarks entropy and margin on the active backend. */
export async function benchKernels(options: KernelBenchOptions = {}): Promise<KernelRecord[]> {
  const { n = 60_000, c = 10, k = 100, runs = 7, warmup = 2 } = options;
  const backend = tf.getBackend();
  // A realistic pool: softmax of seeded logits of varied sharpness, made once, not timed.
  const rng = new Rng(2024);
  const logits = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    const scale = 0.5 + 4 * rng.next();
    for (let j = 0; j < c; j++) logits[i * c + j] = rng.normal() * scale;
  }
  const probs = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [n, c]))) as tf.Tensor2D;
  const records: KernelRecord[] = [];
  try {
    for (const measure of ['entropy', 'margin'] as const) {
      const a = await tensorized(probs, measure, k);
      const b = await perRow(probs, measure, k);
      const tensorizedMs = await timeIt(() => tensorized(probs, measure, k), runs, warmup);
      const perRowMs = await timeIt(() => perRow(probs, measure, k), runs, warmup);
      const samePicks = a.length === b.length && new Set([...a, ...b]).size === k;
      records.push({ backend, measure, n, c, k, tensorizedMs: round(tensorizedMs), perRowMs: round(perRowMs), runs, samePicks });
    }
  } finally {
    probs.dispose();
  }
  return records;
}

const round = (x: number) => Math.round(x * 100) / 100;
