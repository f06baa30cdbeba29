/**
 * The checks every layer writes its input schemas with (valibot), and the one message format they
 * share: `<path> = <value> is not allowed: <what is allowed>`, or `<path> is missing: <what is
 * allowed>`. A schema's message is always the "what is allowed" part; `firstProblem` adds the path
 * and a short, safe description of the value found.
 *
 * Plain data only, no tfjs: a shared lower module like `src/rng.ts` (the dataset catalog, the
 * results schema and the page's store all use it).
 *
 * Valibot rather than zod because the page bundles these checks: valibot's functions tree-shake
 * one by one (about 6 kB of it, minified, ends up in the page), where zod 4's functional build
 * (`zod/mini`) bundled a comparable small schema at 3.7 times valibot's size.
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

/** Where a nested check failed, for the issue the enclosing check reports (`pathItem` + the nested path). */
export interface Nested {
  message: string;
  input: unknown;
  path: [v.IssuePathItem, ...v.IssuePathItem[]];
}

/**
 * Checks `parent[key]` with `schema` (one built from values checked before, e.g. a config);
 * returns the output, or the issue to report at `key` (its path starting there).
 */
export function nested<S extends v.GenericSchema>(schema: S, parent: unknown, key: Key): { ok: true; value: v.InferOutput<S> } | { ok: false; issue: Nested } {
  const value = typeof parent === 'object' && parent !== null ? (parent as Record<Key, unknown>)[key] : undefined;
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  return { ok: false, issue: { message: issue.message, input: issue.input, path: [pathItem(parent, key), ...(issue.path ?? [])] } };
}

/** `nested`, reporting the issue through `addIssue` (of the enclosing `rawTransform` or `rawCheck`). */
export function nestedInto<S extends v.GenericSchema>(schema: S, parent: unknown, key: Key, addIssue: (issue: Nested) => void) {
  const r = nested(schema, parent, key);
  if (!r.ok) addIssue(r.issue);
  return r;
}

/** A problem a cross-field check finds at `path` (keys from the checked value). */
export interface Relation {
  path: Key[];
  value: unknown;
  allowed: string;
}

/**
 * Cross-field checks of an already checked value, in order: each returns the problem it finds
 * (at a path inside the value), or nothing. The first problem is reported.
 */
export function relations<T>(...checks: ((value: T) => Relation | undefined)[]) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const c of checks) {
      const r = c(dataset.value);
      if (!r) continue;
      const path: v.IssuePathItem[] = [];
      let parent: unknown = dataset.value;
      for (const key of r.path) {
        const item = pathItem(parent, key);
        path.push(item);
        parent = item.value;
      }
      addIssue({ message: r.allowed, input: r.value, ...(path.length ? { path: path as [v.IssuePathItem, ...v.IssuePathItem[]] } : {}) });
      return;
    }
  });
}

/** Where a `sequence` is: the index of the item being checked (the state adds what the items before it left). */
export interface SequenceState {
  index: number;
}

/**
 * An array of at most `maxLength` items checked one after another by the schema `item(state)`,
 * which reads `state`: the index of the item, and what the items before it left there (`next`
 * adds each checked item), e.g. the rows labeled in earlier rounds.
 */
export function sequence<T, S extends SequenceState>(maxLength: number, what: string, init: () => S, item: (state: S) => v.GenericSchema<unknown, T>, next: (state: S, checked: T) => void) {
  // Built once: each check starts from a fresh state (checks are synchronous, and an item never
  // holds a sequence of the same schema, so no two checks share the state at once).
  const state = init();
  const schema = item(state);
  return v.pipe(
    v.custom<unknown[]>(Array.isArray, `an array of ${what}`),
    v.maxLength(maxLength, `an array of at most ${maxLength} ${what}`),
    v.rawTransform<unknown[], T[]>(({ dataset, addIssue, NEVER }) => {
      Object.assign(state, init());
      const out: T[] = [];
      // A plain index loop: the holes of a sparse array are read as undefined, and refused as missing.
      for (let i = 0; i < dataset.value.length; i++) {
        state.index = i;
        const r = nested(schema, dataset.value, i);
        if (!r.ok) {
          addIssue(r.issue);
          return NEVER;
        }
        next(state, r.value);
        out.push(r.value);
      }
      return out;
    }),
  );
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

/** What a schema allows, for the message of a missing field (`issue`: the missing field's). */
function allowedOf(schema: v.GenericSchema, issue: v.BaseIssue<unknown>): string {
  const m = (schema as { message?: unknown }).message;
  return typeof m === 'string' ? m : typeof m === 'function' ? String(m(issue)) : 'present';
}

/** A plain object: not null, not an array. */
export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A plain object (not an array) with these fields, checked in order; unknown fields are dropped and
 * nothing of the input's prototype is kept. A missing field is reported with that field's message.
 */
export function obj<E extends v.ObjectEntries>(entries: E, allowed = 'an object') {
  const missing = (issue: v.BaseIssue<unknown>) => {
    const key = issue.path?.[issue.path.length - 1]?.key;
    const schema = typeof key === 'string' && Object.hasOwn(entries, key) ? entries[key] : undefined;
    return schema ? allowedOf(schema, issue) : allowed;
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

/** `build(key)`, built once per key object: a schema costs more to build than most checks do. */
export function onePer<K extends object, T>(build: (key: K) => T): (key: K) => T {
  const built = new WeakMap<K, T>();
  return (key) => {
    let value = built.get(key);
    if (value === undefined) built.set(key, (value = build(key)));
    return value;
  };
}
