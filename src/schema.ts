/**
 * The checks every layer writes its input schemas with (valibot), and the one message format they
 * share: `<path> = <value> is not allowed: <what is allowed>`, or `<path> is missing: <what is
 * allowed>`. A schema's message is always the "what is allowed" part; `firstProblem` adds the path
 * and a short, safe description of the value found.
 *
 * Plain data only, no tfjs: a shared lower module like `src/rng.ts` (the dataset catalog, the
 * results schema and the page's store all use it).
 */
import * as v from 'valibot';

/** The parts of a refusal: where, what was found (undefined: nothing), and what is allowed. */
export interface Problem {
  path: string;
  value: unknown;
  allowed: string;
}

/** `path = value is not allowed: allowed`, or `path is missing: allowed`. */
export function problemMessage({ path, value, allowed }: Problem): string {
  return value === undefined ? `${path} is missing: ${allowed}` : `${path} = ${describeValue(value)} is not allowed: ${allowed}`;
}

/** A short, safe description of a value found in input (never the whole of a large value). */
export function describeValue(x: unknown): string {
  if (typeof x === 'string') return x.length > 60 ? `'${x.slice(0, 57)}…' (${x.length} characters)` : `'${x}'`;
  if (typeof x === 'number' || typeof x === 'boolean' || x === null) return String(x);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object') return 'an object';
  return typeof x;
}

type Key = string | number;

/** A path item pointing at `key` of `parent` (for issues a cross-field check raises). */
export function pathItem(parent: unknown, key: Key): v.IssuePathItem {
  const value = typeof parent === 'object' && parent !== null ? (parent as Record<Key, unknown>)[key] : undefined;
  return { type: 'unknown', origin: 'value', input: parent, key, value };
}

/** `root.a[0].b`: a valibot issue path written from `root`. */
export function issuePath(root: string, path: readonly v.IssuePathItem[] | undefined): string {
  let out = root;
  for (const item of path ?? []) out += typeof item.key === 'number' ? `[${item.key}]` : `.${String(item.key)}`;
  return out;
}

/** Checks `value`; returns the output, or the first problem found (under `root`). */
export function check<S extends v.GenericSchema>(schema: S, value: unknown, root: string): { ok: true; value: v.InferOutput<S> } | { ok: false; problem: Problem } {
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  return { ok: false, problem: { path: issuePath(root, issue.path), value: issue.input, allowed: issue.message } };
}

// ---------------------------------------------------------------------------------------------
// Field schemas: each one's message is what it allows.

/** What a schema allows, for the message of a missing field. */
function allowedOf(schema: v.GenericSchema): string {
  const m = (schema as { message?: unknown }).message;
  return typeof m === 'string' ? m : 'present';
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A plain object (not an array) with these fields, checked in order; unknown fields are dropped and
 * nothing of the input's prototype is kept. A missing field is reported with that field's message.
 */
export function obj<E extends v.ObjectEntries>(entries: E, allowed = 'an object') {
  const missing = (issue: v.BaseIssue<unknown>) => {
    const key = issue.path?.[issue.path.length - 1]?.key;
    const schema = typeof key === 'string' && Object.hasOwn(entries, key) ? entries[key] : undefined;
    return schema ? allowedOf(schema) : allowed;
  };
  return v.pipe(v.custom<Record<string, unknown>>(isRecord, allowed), v.object(entries, missing));
}

/** An integer in [min, max]. */
export const int = (min: number, max: number, allowed = `an integer from ${min} to ${max}`) =>
  v.custom<number>((x) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max, allowed);

/** A finite number in [min, max]; `allowed` replaces the default description of the range. */
export function num(min: number, max: number, allowed?: string) {
  const range = max === Infinity ? (min === -Infinity ? '' : ` at least ${min}`) : ` in [${min}, ${max}]`;
  return v.custom<number>((x) => typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max, allowed ?? `a finite number${range}`);
}

/** A string of at most `maxLength` characters. */
export const str = (maxLength: number) =>
  v.pipe(v.custom<string>((x) => typeof x === 'string', 'a string'), v.maxLength(maxLength, `a string of at most ${maxLength} characters`));

export const bool = () => v.custom<boolean>((x) => typeof x === 'boolean', 'true or false');

/** One of `values`. */
export const oneOf = <T extends string>(values: readonly T[]) =>
  v.custom<T>((x) => typeof x === 'string' && (values as readonly string[]).includes(x), `one of ${values.join(', ')}`);

/** Exactly `expected` (`<expected>: <why>`). */
export const exact = <T extends number>(expected: T, why: string) => v.custom<T>((x) => x === expected, `${expected}: ${why}`);

/**
 * An array of at most `maxLength` items (checked before any item is), each checked by `item`.
 * Holes of a sparse array are read as undefined (and refused as missing), not passed on as holes.
 */
export function list<S extends v.GenericSchema>(item: S, maxLength: number, what: string) {
  return v.pipe(
    v.custom<unknown[]>(Array.isArray, `an array of ${what}`),
    v.maxLength(maxLength, `an array of at most ${maxLength} ${what}`),
    v.array(item),
  );
}
