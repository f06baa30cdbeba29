/**
 * CSV and TSV tables: numeric feature columns and one label column, parsed by papaparse (quotes,
 * CRLF, a byte-order mark) and checked cell by cell, each problem naming the file, the row and the
 * column. The same code reads a file in the CLI and a dropped file in the page.
 *
 * - Delimiter: a tab for .tsv/.tab files, a comma for .csv, guessed (comma, tab, semicolon) otherwise.
 * - Header: the first row is a header when one of its cells is not a number where the second row
 *   has a number (a table whose labels are words has words in the label column of every row).
 * - Label column: `labelColumn` by name (it must exist; it needs a header); else the first column
 *   named label, class, target or y (any case); else the last column.
 * - Labels may be numbers or words: the classes are the distinct labels in sorted order (numbers
 *   numerically, words by code point), and their index is the class index; the names are kept.
 * - Every other cell must be a finite number. Lines with no cells at all are skipped.
 */
import Papa from 'papaparse';
import { UserDataError } from './errors.ts';

export const LABEL_COLUMN_NAMES = ['label', 'class', 'target', 'y'] as const;
/** Labels are stored one byte per row. */
export const MAX_TABLE_CLASSES = 256;

export interface TableOptions {
  /** The label column's header name (default: label, class, target or y, else the last column). */
  labelColumn?: string | null;
}

export interface ParsedTable {
  file: string;
  /** Whether the first row was a header. */
  header: boolean;
  /** Every column's name: the header's, or "column N". */
  columns: string[];
  /** Index of the label column in `columns`. */
  labelIndex: number;
  featureNames: string[];
  /** Row-major [n, d] features as read (not standardized). */
  x: Float32Array;
  /** The label of each row as written. */
  labels: string[];
  /** The table's 1-based row number of each data row, for messages. */
  rows: number[];
  n: number;
  d: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

const looksNumeric = (cell: string) => NUMBER.test(cell.trim()) || NON_FINITE.test(cell.trim());

function delimiterFor(file: string): string | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return '\t';
  if (lower.endsWith('.csv')) return ',';
  return undefined;
}

export function isTablePath(path: string): boolean {
  return /\.(csv|tsv|tab|txt)$/i.test(path);
}

/** Class names in order: numbers numerically when every label is a number, else by code point. */
export function sortLabels(labels: Iterable<string>): string[] {
  const distinct = [...new Set(labels)];
  if (distinct.every((l) => NUMBER.test(l))) return distinct.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Parses and checks a table.
 * @throws UserDataError naming the file, and the row and column where there is one.
 */
export function parseTable(file: string, text: string, opts: TableOptions = {}): ParsedTable {
  const delimiter = delimiterFor(file);
  const parsed = Papa.parse<string[]>(text, { ...(delimiter ? { delimiter } : { delimitersToGuess: [',', '\t', ';'] }), skipEmptyLines: false });
  const bad = parsed.errors.find((e) => e.type === 'Quotes');
  if (bad) throw new UserDataError({ file, ...(bad.row !== undefined ? { row: bad.row + 1 } : {}) }, `${bad.message.toLowerCase()} (a quoted cell is never closed)`);
  // Keep each row's own number; lines with no cells (blank lines, the last newline) are skipped.
  const records = parsed.data.map((cells, i) => ({ cells, row: i + 1 })).filter((r) => r.cells.some((c) => c.trim() !== ''));
  if (records.length === 0) throw new UserDataError({ file }, 'an empty table: no rows');
  const first = records[0]!;
  const second = records[1];
  const header = second !== undefined && first.cells.some((c, j) => !looksNumeric(c) && second.cells[j] !== undefined && looksNumeric(second.cells[j]!));
  const width = first.cells.length;
  const columns = header ? first.cells.map((c) => c.trim()) : Array.from({ length: width }, (_, j) => `column ${j + 1}`);
  if (header) {
    const seen = new Map<string, number>();
    columns.forEach((name, j) => {
      const k = seen.get(name);
      if (k !== undefined) throw new UserDataError({ file, row: first.row }, `duplicate header name '${name}' in columns ${k + 1} and ${j + 1}: every column needs its own name`);
      seen.set(name, j);
    });
  }
  const data = header ? records.slice(1) : records;
  if (data.length === 0) throw new UserDataError({ file }, 'a table with a header and no data rows');
  if (width < 2) throw new UserDataError({ file }, `no label column: the table has ${width} column${width === 1 ? '' : 's'}; it needs numeric feature columns and a label column`);

  let labelIndex: number;
  if (opts.labelColumn) {
    if (!header) throw new UserDataError({ file }, `no label column '${opts.labelColumn}': the table has no header row to name its columns (the last column is the label when none is named)`);
    labelIndex = columns.indexOf(opts.labelColumn);
    if (labelIndex < 0) throw new UserDataError({ file }, `no label column '${opts.labelColumn}' (--label-column); the columns are ${columns.map((c) => `'${c}'`).join(', ')}`);
  } else {
    const named = header ? columns.findIndex((c) => (LABEL_COLUMN_NAMES as readonly string[]).includes(c.toLowerCase())) : -1;
    labelIndex = named >= 0 ? named : width - 1;
  }
  const d = width - 1;
  const n = data.length;
  const x = new Float32Array(n * d);
  const labels: string[] = [];
  const rows: number[] = [];
  const col = (j: number) => ({ name: columns[j]!, index: j + 1 });
  data.forEach(({ cells, row }, i) => {
    if (cells.length !== width) {
      throw new UserDataError({ file, row }, `a ragged row: ${cells.length} cell${cells.length === 1 ? '' : 's'}, but ${header ? 'the header has' : 'the first row has'} ${width}`);
    }
    let k = 0;
    for (let j = 0; j < width; j++) {
      const cell = cells[j]!.trim();
      if (j === labelIndex) {
        if (cell === '') throw new UserDataError({ file, row, column: col(j) }, 'an empty label');
        labels.push(cell);
        continue;
      }
      if (NON_FINITE.test(cell)) throw new UserDataError({ file, row, column: col(j) }, `'${cell}' is NaN or infinite: every feature must be a finite number`);
      if (!NUMBER.test(cell)) throw new UserDataError({ file, row, column: col(j) }, cell === '' ? 'an empty cell, not a number' : `'${cell.length > 40 ? `${cell.slice(0, 37)}…` : cell}' is not a number`);
      const v = Math.fround(Number(cell));
      if (!Number.isFinite(v)) throw new UserDataError({ file, row, column: col(j) }, `'${cell}' is infinite as a 32-bit float: every feature must be a finite number`);
      x[i * d + k++] = v;
    }
    rows.push(row);
  });
  return { file, header, columns, labelIndex, featureNames: columns.filter((_, j) => j !== labelIndex), x, labels, rows, n, d };
}

/**
 * The class index of each row of `table` in `classNames` (from `classesOf`).
 * @throws UserDataError naming the row of a label outside the classes (a test table's label the training table lacks).
 */
export function tableLabels(table: ParsedTable, classNames: readonly string[], classesFrom: string): Uint8Array {
  const index = new Map(classNames.map((c, i) => [c, i]));
  const y = new Uint8Array(table.n);
  table.labels.forEach((l, i) => {
    const c = index.get(l);
    if (c === undefined) {
      throw new UserDataError({ file: table.file, row: table.rows[i]!, column: { name: table.columns[table.labelIndex]!, index: table.labelIndex + 1 } }, `the label '${l}' is not a class of ${classesFrom} (${classNames.join(', ')})`);
    }
    y[i] = c;
  });
  return y;
}

/** The classes of a table's labels, sorted (`sortLabels`), at most 256. */
export function classesOf(table: ParsedTable): string[] {
  const names = sortLabels(table.labels);
  if (names.length > MAX_TABLE_CLASSES) {
    throw new UserDataError({ file: table.file, column: { name: table.columns[table.labelIndex]!, index: table.labelIndex + 1 } }, `${names.length} distinct labels, over the ${MAX_TABLE_CLASSES} classes allowed (is this the label column? name it with --label-column)`);
  }
  return names;
}
