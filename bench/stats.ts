/**
 * Pure helpers shared by the benchmark suites, the runner and the report (no tfjs, no DOM, no
 * Node APIs): order statistics, rounding, and the checks the targets are judged by.
 */

/** Median of a non-empty list (mean of the two middle values for an even length). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Smallest value of a non-empty list. */
export function min(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('min of an empty list');
  return xs.reduce((a, b) => (b < a ? b : a), Infinity);
}

/** Largest value of a non-empty list. */
export function max(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('max of an empty list');
  return xs.reduce((a, b) => (b > a ? b : a), -Infinity);
}

/** Arithmetic mean of a non-empty list. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of an empty list');
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** `x` rounded to `digits` decimals (2 by default); non-finite values pass through. */
export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * A flag's whole-number value, at least `least`.
 *
 * @example
 *   wholeNumberFlag('--repeats', '3'); // 3
 *   wholeNumberFlag('--repeats', 'x'); // throws: --repeats takes a whole number of at least 1, got 'x'
 */
export function wholeNumberFlag(flag: string, text: string, least = 1): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < least) throw new RangeError(`${flag} takes a whole number of at least ${least}, got '${text}'`);
  return n;
}

/** Items per second for `count` items done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`perSecond: ms must be positive, got ${ms}`);
  return (count * 1000) / ms;
}

/**
 * Whether a series stays flat from position `from` on: every value equal to the one at `from`.
 * A series with nothing at or after `from` counts as flat.
 */
export function isFlatFrom(values: readonly number[], from: number): boolean {
  const tail = values.slice(from);
  return tail.every((v) => v === tail[0]);
}

/** `last - first` over the values from position `from` on (0 when fewer than two values remain). */
export function growthFrom(values: readonly number[], from: number): number {
  const tail = values.slice(from);
  return tail.length < 2 ? 0 : tail[tail.length - 1]! - tail[0]!;
}

/** Sum of the values from position `from` on. */
export function sumFrom(values: readonly number[], from: number): number {
  return values.slice(from).reduce((a, b) => a + b, 0);
}

/**
 * Readback per round judged against the pool: `O(N)` means every round reads back at most
 * `factor` x N float32 scores in all (default 2: the N scores plus small constants), and no single
 * read reaches N x C floats (which a probability matrix read back would).
 */
export function readbackIsOrderN(
  round: { readBytes: number; maxReadBytes: number },
  n: number,
  c: number,
  factor = 2,
): boolean {
  return round.readBytes <= factor * 4 * n && round.maxReadBytes < 4 * n * c;
}

/** A value formatted for a Markdown table: fixed decimals, thousands separated, '–' for none. */
export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Bytes in human units (B, KB, MB with 1024 steps), e.g. 8192 -> '8.0 KB'. */
export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${bytes} B`;
  if (abs < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
