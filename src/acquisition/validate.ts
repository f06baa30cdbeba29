import * as tf from '@tensorflow/tfjs';
import { InvalidProbabilitiesError } from './errors.ts';

export interface ValidateOptions {
  /** Largest allowed |sum of a row - 1|. Loose enough for float16 GPU textures. @default 1e-3 */
  tolerance?: number;
  /** Rank expected: 2 for [N, C], 3 for MC samples [T, N, C]. @default 2 */
  rank?: 2 | 3;
  /** Fewest classes allowed on the last axis (margin and ratio need 2). @default 2 */
  minClasses?: number;
  /** How the tensor is named in messages. @default 'probs' */
  name?: string;
}

/**
 * Checks that `t` is a probability tensor: rank and shape, at least `minClasses` classes,
 * every value finite and within [0, 1], every row summing to 1 within `tolerance`.
 * The check runs on the backend; it reads back six scalars, never the matrix.
 *
 * @throws InvalidProbabilitiesError naming the first bad row, the class and the reason, e.g.
 *   "probs: row 3: class 1 is NaN (not finite); 2 bad rows in all".
 * @example
 *   await validateProbabilities(probs);               // [N, C]
 *   await validateProbabilities(mc, {rank: 3});       // [T, N, C]
 */
export async function validateProbabilities(t: tf.Tensor, options: ValidateOptions = {}): Promise<void> {
  const { tolerance = 1e-3, rank = 2, minClasses = 2, name = 'probs' } = options;
  if (!(tolerance >= 0)) throw new RangeError(`validateProbabilities: tolerance must be >= 0, got ${tolerance}`);
  if (!(t instanceof tf.Tensor)) {
    throw new InvalidProbabilitiesError(`${name}: expected a tf.Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  const layout = rank === 2 ? '[N, C]' : '[T, N, C]';
  if (t.rank !== rank) {
    throw new InvalidProbabilitiesError(`${name}: expected rank ${rank} ${layout}, got shape [${t.shape.join(', ')}]`);
  }
  if (t.dtype !== 'float32') {
    throw new InvalidProbabilitiesError(`${name}: expected dtype float32, got ${t.dtype}`);
  }
  const c = t.shape[rank - 1]!;
  if (c < minClasses) {
    throw new InvalidProbabilitiesError(
      `${name}: needs at least ${minClasses} classes on the last axis, got shape [${t.shape.join(', ')}]`,
    );
  }
  const rows = t.size / c;
  if (rows === 0) return; // an empty pool is a valid, empty probability matrix

  const packed = tf.tidy(() => {
    const x = t.reshape([rows, c]); // [T, N, C] -> [T*N, C]
    const nonFiniteEl = tf.logicalOr(tf.isNaN(x), tf.isInf(x));
    const outOfRangeEl = tf.logicalOr(tf.less(x, 0), tf.greater(x, 1)); // false for NaN
    const sums = tf.sum(x, -1); // [R]
    const nonFinite = tf.any(nonFiniteEl, -1);
    const outOfRange = tf.any(outOfRangeEl, -1);
    const badSum = tf.greater(tf.abs(tf.sub(sums, 1)), tolerance);
    // A reason code per row: 1 non-finite, 2 out of range, 4 bad sum (bits may combine).
    const code = tf.addN([
      tf.cast(nonFinite, 'float32'),
      tf.mul(tf.cast(outOfRange, 'float32'), 2),
      tf.mul(tf.cast(badSum, 'float32'), 4),
    ]); // [R]
    const bad = tf.greater(code, 0);
    const firstOf = (mask: tf.Tensor, n: number) =>
      tf.min(tf.where(mask, tf.range(0, n, 1, 'int32'), tf.fill([n], n, 'int32')));
    const first = firstOf(bad, rows); // == rows when every row is good
    const at = tf.minimum(first, tf.scalar(rows - 1, 'int32'));
    const row = tf.gather(x, at); // [C]
    const badEl = tf.gather(tf.logicalOr(nonFiniteEl, outOfRangeEl), at); // [C]
    const col = tf.minimum(firstOf(badEl, c), tf.scalar(c - 1, 'int32'));
    return tf.stack([
      tf.cast(first, 'float32'),
      tf.gather(code, at),
      tf.gather(sums, at),
      tf.cast(col, 'float32'),
      tf.gather(row, col),
      tf.cast(tf.sum(tf.cast(bad, 'int32')), 'float32'),
    ]);
  });
  const v = await packed.data();
  packed.dispose();
  const [first, code, rowSum, col, value, badRows] = Array.from(v) as number[];
  if (first === rows) return;
  // float32 readbacks, shown to float32's ~7 significant digits: 0.9, not 0.8999999761581421.
  const fmt = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(7))) : String(x));

  const r = first!;
  const n = rank === 3 ? t.shape[1]! : rows;
  const where = rank === 3 ? `sample ${Math.floor(r / n)}, row ${r % n}` : `row ${r}`;
  const more = badRows! > 1 ? `; ${badRows} bad rows in all` : '';
  if (code! & 1) {
    throw new InvalidProbabilitiesError(`${name}: ${where}: class ${col} is ${fmt(value!)} (not finite)${more}`, r % n, 'non-finite');
  }
  if (code! & 2) {
    throw new InvalidProbabilitiesError(`${name}: ${where}: class ${col} is ${fmt(value!)}, outside [0, 1]${more}`, r % n, 'out-of-range');
  }
  throw new InvalidProbabilitiesError(
    `${name}: ${where}: sums to ${fmt(rowSum!)}, expected 1 within ${tolerance}${more}`,
    r % n,
    'row-sum',
  );
}
