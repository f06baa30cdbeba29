/**
 * The journal of a headless run: JSON lines beside the results file (`run.json` ->
 * `run.journal.jsonl`), one record per completed round, each appended and fsync'd before the
 * round after it starts, so a run killed at any moment (kill -9, preemption, power cut after the
 * fsync) keeps every round it completed. `--resume` takes the journal as it takes a results file.
 *
 *   {"type":"header","format":"activelab-journal","version":1,"config":{...},"shard":null,"startedAt":"..."}
 *   {"type":"round","strategy":"entropy","repeat":0,"record":{...a RoundRecord...}}
 *   {"type":"run","strategy":"entropy","repeat":0,"status":"complete"}     (a cell that ended)
 *
 * A journal is started whole (header and the rounds a resumed run keeps) in a temporary file that
 * is then renamed over the old one, so it never holds a mix of two runs. On read, a last line
 * without its newline (or that is not JSON) is a write cut short: it is ignored, with a warning.
 */
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExperimentConfig } from '../engine/config.ts';
import { summarize, type ExperimentResults, type RoundRecord, type RunRecord, type RunStatus } from '../engine/results.ts';
import { MAX_RESULTS_FILE_BYTES, ResultsFileError, validateResults } from '../engine/results-file.ts';
import { nodeFs, writeOutputFile, type OutputFs } from './outputs.ts';
import { cellKey, inCellOrder, type Cell, type Shard } from './shard.ts';

export const JOURNAL_FORMAT = 'activelab-journal';

export interface JournalHeader {
  type: 'header';
  format: typeof JOURNAL_FORMAT;
  version: 1;
  config: ExperimentConfig;
  shard: Shard | null;
  startedAt: string;
}

type JournalLine =
  | JournalHeader
  | { type: 'round'; strategy: string; repeat: number; record: RoundRecord }
  | ({ type: 'run'; strategy: string; repeat: number; status: RunStatus; error?: string } & Pick<RunRecord, 'oracle' | 'stopped'>);

/** `results/run.journal.jsonl` -> `results/run.json`: the results file a journal's run writes (`plannedOutputs` names the journal). */
export function resultsPathFor(journalPath: string): string {
  return `${journalPath.replace(/\.journal\.jsonl$/i, '').replace(/\.jsonl$/i, '')}.json`;
}

/** Whether `text` is a journal (its first line is a journal header) rather than a results JSON. */
export function isJournalText(text: string): boolean {
  const nl = text.indexOf('\n');
  try {
    const first = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as { type?: unknown; format?: unknown };
    return first?.type === 'header' && first.format === JOURNAL_FORMAT;
  } catch {
    return false;
  }
}

const line = (value: JournalLine): string => `${JSON.stringify(value)}\n`;

/** What a run-end line carries besides the status: who labeled the run, and a stop by `stopWhen`. */
const runExtras = (run: Pick<RunRecord, 'oracle' | 'stopped'>) => ({
  ...(run.oracle !== undefined ? { oracle: run.oracle } : {}),
  ...(run.stopped !== undefined ? { stopped: run.stopped } : {}),
});

/** An open journal: appends are written and fsync'd before they return. */
export class Journal {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Starts the journal at `path` (replacing any old one, atomically, through `fs`): the header,
   * then every round of `kept` (the runs a resumed run keeps) and an end record for each finished
   * one. Appends go straight to the file, each fsync'd.
   */
  static create(path: string, header: Omit<JournalHeader, 'type' | 'format' | 'version'>, kept: readonly RunRecord[], fs: OutputFs = nodeFs): Journal {
    const lines = [line({ type: 'header', format: JOURNAL_FORMAT, version: 1, ...header })];
    for (const run of kept) {
      for (const record of run.rounds) lines.push(line({ type: 'round', strategy: run.strategy, repeat: run.repeat, record }));
      if (run.status === 'complete' || run.status === 'exhausted') lines.push(line({ type: 'run', strategy: run.strategy, repeat: run.repeat, status: run.status, ...runExtras(run) }));
    }
    writeOutputFile(path, lines.join(''), fs);
    syncDirectory(dirname(path));
    return new Journal(path, openSync(path, 'a'));
  }

  /** Appends one completed round; durable when this returns. */
  appendRound(cell: Cell, record: RoundRecord): void {
    this.append({ type: 'round', strategy: cell.strategy, repeat: cell.repeat, record });
  }

  /** Records that a cell ended (complete, exhausted, aborted or failed), with its oracle and any stop by `stopWhen`. */
  appendRun(run: Pick<RunRecord, 'strategy' | 'repeat' | 'status' | 'error' | 'oracle' | 'stopped'>): void {
    this.append({ type: 'run', strategy: run.strategy, repeat: run.repeat, status: run.status, ...(run.error !== undefined ? { error: run.error } : {}), ...runExtras(run) });
  }

  private append(value: JournalLine): void {
    if (this.fd === null) throw new Error(`journal ${this.path} is closed`);
    const bytes = Buffer.from(line(value));
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Closes and deletes the journal (once the results file holding the same rounds is written). */
  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
  }
}

/** fsync a folder so that a rename in it survives a power cut (best effort: not every platform allows it). */
export function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export interface JournalContents {
  /** The run as far as the journal goes (status 'aborted' unless every cell ended complete), validated like a results file. */
  results: ExperimentResults;
  shard: Shard | null;
  /** E.g. the torn last line that was ignored. */
  warnings: string[];
}

/** A journal that is not allowed; the message names the file, the line and what is wrong. */
export class JournalError extends ResultsFileError {}

/** Reads and checks the journal at `path` (at most MAX_RESULTS_FILE_BYTES). */
export function readJournal(path: string): JournalContents {
  const size = statSync(path).size;
  if (size > MAX_RESULTS_FILE_BYTES) throw new JournalError(path, `a file of ${size} bytes`, `a journal of at most ${MAX_RESULTS_FILE_BYTES} bytes`);
  return parseJournal(readFileSync(path, 'utf8'), path);
}

/** Parses journal text; `name` is used in messages. */
export function parseJournal(text: string, name = 'journal'): JournalContents {
  const warnings: string[] = [];
  const lines = text.split('\n');
  const tail = lines.pop()!; // '' when the text ends with a newline, as every complete journal does
  if (tail !== '') warnings.push(`${name}: ignored the last line (${lines.length + 1}), cut short by an interrupted write (${tail.length} characters, no newline)`);
  const parsed: { value: unknown; n: number }[] = [];
  lines.forEach((l, i) => {
    try {
      parsed.push({ value: JSON.parse(l), n: i + 1 });
    } catch {
      if (i === lines.length - 1 && i > 0) warnings.push(`${name}: ignored the last line (${i + 1}), which is not JSON (an interrupted write)`);
      else throw new JournalError(`${name} line ${i + 1}`, l.length > 60 ? `${l.slice(0, 57)}…` : l, 'a JSON record of a journal');
    }
  });
  const head = parsed[0]?.value as Partial<JournalHeader> | undefined;
  if (!head || head.type !== 'header' || head.format !== JOURNAL_FORMAT) {
    throw new JournalError(`${name} line 1`, parsed[0] === undefined ? undefined : `a record of type ${JSON.stringify(head?.type ?? null)}`, `a journal header ({"type":"header","format":"${JOURNAL_FORMAT}",...})`);
  }
  if (head.version !== 1) throw new JournalError(`${name} line 1: version`, head.version, '1 (the only journal format so far)');
  const shard = checkShard(head.shard, `${name} line 1: shard`);

  // Group the records by cell, remembering the line of each round for messages.
  const byCell = new Map<string, Cell & { run: RunRecord; lines: number[] }>();
  const cellOf = (o: Record<string, unknown>, n: number) => {
    const strategy = o.strategy, repeat = o.repeat;
    if (typeof strategy !== 'string' || typeof repeat !== 'number') throw new JournalError(`${name} line ${n}`, 'a record', 'strategy (a string) and repeat (a number)');
    const key = cellKey({ strategy, repeat });
    let c = byCell.get(key);
    if (!c) byCell.set(key, (c = { strategy, repeat, run: { strategy, repeat, status: 'aborted', rounds: [] }, lines: [] }));
    return c;
  };
  for (const { value, n } of parsed.slice(1)) {
    const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (o.type === 'round') {
      const c = cellOf(o, n);
      if (c.run.status !== 'aborted') throw new JournalError(`${name} line ${n}`, `a round of ${c.run.strategy} #${c.run.repeat}`, `no round after the record that ended the cell (${c.run.status})`);
      c.run.rounds.push(o.record as RoundRecord);
      c.lines.push(n);
    } else if (o.type === 'run') {
      const c = cellOf(o, n);
      c.run.status = o.status as RunStatus;
      if (o.error !== undefined) c.run.error = o.error as string;
      else delete c.run.error;
      // Checked with the results below.
      if (o.oracle !== undefined) c.run.oracle = o.oracle as RunRecord['oracle'];
      if (o.stopped !== undefined) c.run.stopped = o.stopped as RunRecord['stopped'];
    } else {
      throw new JournalError(`${name} line ${n}: type`, o.type, "'round' or 'run'");
    }
  }
  const runs = inCellOrder(head.config ?? { strategies: [], repeats: 0 }, [...byCell.values()]);
  const value = {
    version: 1,
    config: head.config,
    environment: { backend: head.config?.backend ?? 'wasm', renderer: null, userAgent: null },
    status: 'aborted',
    startedAt: head.startedAt,
    elapsedMs: 0,
    runs: runs.map((c) => c.run),
    summary: [],
  };
  let results: ExperimentResults;
  try {
    results = validateResults(value);
  } catch (err) {
    if (!(err instanceof ResultsFileError)) throw err;
    // results.runs[i].rounds[j]... -> the journal line of that round.
    const m = /^results\.runs\[(\d+)\](?:\.rounds\[(\d+)\])?(.*)$/.exec(err.path);
    if (m) {
      const c = runs[Number(m[1])]!;
      const n = m[2] !== undefined ? c.lines[Number(m[2])] : c.lines[0];
      throw new JournalError(`${name} line ${n ?? '?'} (${c.run.strategy} #${c.run.repeat}): ${m[2] !== undefined ? `record${m[3]}` : m[3]!.replace(/^\./, '')}`, err.value, err.allowed);
    }
    throw new JournalError(`${name} line 1: ${err.path.replace(/^results\./, '')}`, err.value, err.allowed);
  }
  if (shard && shard.count > results.config.strategies.length * results.config.repeats) {
    throw new JournalError(`${name} line 1: shard.count`, shard.count, `at most the number of cells (${results.config.strategies.length * results.config.repeats})`);
  }
  results.summary = summarize(results.runs, results.config.target);
  if (shard) results.shard = shard;
  return { results, shard, warnings };
}

function checkShard(v: unknown, path: string): Shard | null {
  if (v === null || v === undefined) return null;
  const s = v as Partial<Shard>;
  if (typeof s !== 'object' || !Number.isInteger(s.count) || s.count! < 1 || !Number.isInteger(s.index) || s.index! < 0 || s.index! >= s.count!) {
    throw new JournalError(path, 'a value', 'null or {index, count} with 0 <= index < count');
  }
  return { index: s.index!, count: s.count! };
}
