/**
 * The journal of completed rounds (src/cli/journal.ts): written whole then appended line by line,
 * read back as a resumable run; a torn last line is ignored with a warning, anything else that is
 * wrong is refused naming the line. Also the results fields a sweep adds (shard, absent, workers),
 * checked like the rest of a results file.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, validateResults, type ExperimentResults, type RoundRecord, type RunRecord } from '../../src/engine/index.ts';
import { isJournalText, Journal, parseJournal, readJournal, resultsPathFor } from '../../src/cli/journal.ts';
import { plannedOutputs } from '../../src/cli/outputs.ts';

const config = resolveConfig({ dataset: 'moons', model: 'logreg', strategies: ['entropy', 'random'], initial: 4, query: 2, rounds: 2, repeats: 2, seed: 1 });

/** A plausible round r of a run whose labeled set grows by `query` from `initial` rows. */
function round(r: number, base: number): RoundRecord {
  const selected = r === 0 ? [base, base + 1, base + 2, base + 3] : [base + 2 + 2 * r, base + 3 + 2 * r];
  return {
    round: r, labeled: 4 + 2 * r, accuracy: 0.5 + r / 10, loss: 0.7 - r / 20, ece: 0.1, calibration: null,
    classCounts: [2 + r, 2 + r], selected, selectedScores: r === 0 ? null : [0.9, 0.8], ms: { train: 1, predict: 0, score: 0, select: 0, evaluate: 1 },
  };
}

const dir = () => mkdtempSync(join(tmpdir(), 'activelab-journal-'));

describe('journal', () => {
  it('is named beside the results file, and the results file is found from it', () => {
    expect(plannedOutputs({ out: '/r/run.json' }).journal.path).toBe('/r/run.journal.jsonl');
    expect(resultsPathFor('/r/run.journal.jsonl')).toBe('/r/run.json');
  });

  it('round-trips: kept runs, appended rounds and ended cells come back as a resumable run in cell order', () => {
    const path = join(dir(), 'run.journal.jsonl');
    const kept: RunRecord = { strategy: 'random', repeat: 0, status: 'complete', rounds: [round(0, 0), round(1, 0), round(2, 0)] };
    const j = Journal.create(path, { config, shard: { index: 1, count: 3 }, startedAt: '2026-01-01T00:00:00.000Z' }, [kept]);
    j.appendRound({ strategy: 'entropy', repeat: 1 }, round(0, 10));
    j.appendRound({ strategy: 'entropy', repeat: 1 }, round(1, 10));
    j.appendRound({ strategy: 'entropy', repeat: 0 }, round(0, 20));
    j.appendRun({ strategy: 'entropy', repeat: 0, status: 'failed', error: 'Error: boom' });
    j.close();
    const text = readFileSync(path, 'utf8');
    expect(isJournalText(text)).toBe(true);
    expect(text.split('\n').filter(Boolean)).toHaveLength(1 + 3 + 1 + 3 + 1);
    // No temporary file is left beside it.
    expect(readdirSync(join(path, '..'))).toEqual(['run.journal.jsonl']);
    const { results, shard, warnings } = readJournal(path);
    expect(warnings).toEqual([]);
    expect(shard).toEqual({ index: 1, count: 3 });
    expect(results.shard).toEqual({ index: 1, count: 3 });
    expect(results.config).toEqual(config);
    expect(results.runs.map((r) => [r.strategy, r.repeat, r.status, r.rounds.length, r.error])).toEqual([
      ['entropy', 0, 'failed', 1, 'Error: boom'],
      ['random', 0, 'complete', 3, undefined],
      ['entropy', 1, 'aborted', 2, undefined],
    ]);
    expect(results.runs[1]!.rounds).toEqual(kept.rounds);
    expect(results.summary.map((s) => s.strategy)).toEqual(['entropy', 'random']);
  });

  it("keeps a run's oracle and a stop by stopWhen, kept or appended", () => {
    const path = join(dir(), 'run.journal.jsonl');
    const kept: RunRecord = { strategy: 'random', repeat: 0, status: 'complete', oracle: 'noisy', stopped: { criterion: 'stabilizing', round: 1 }, rounds: [round(0, 0), round(1, 0)] };
    const j = Journal.create(path, { config, shard: null, startedAt: '2026-01-01T00:00:00.000Z' }, [kept]);
    j.appendRound({ strategy: 'entropy', repeat: 0 }, round(0, 20));
    j.appendRun({ strategy: 'entropy', repeat: 0, status: 'complete', oracle: 'human', stopped: { criterion: 'max-confidence', round: 0 } });
    j.close();
    const runs = readJournal(path).results.runs;
    expect(runs.map((r) => [r.strategy, r.oracle, r.stopped])).toEqual([
      ['entropy', 'human', { criterion: 'max-confidence', round: 0 }],
      ['random', 'noisy', { criterion: 'stabilizing', round: 1 }],
    ]);
  });

  it('starting a journal replaces the old one whole', () => {
    const path = join(dir(), 'run.journal.jsonl');
    const a = Journal.create(path, { config, shard: null, startedAt: '2026-01-01T00:00:00.000Z' }, []);
    a.appendRound({ strategy: 'entropy', repeat: 0 }, round(0, 0));
    a.close();
    Journal.create(path, { config, shard: null, startedAt: '2026-01-02T00:00:00.000Z' }, []).remove();
    expect(existsSync(path)).toBe(false);
    Journal.create(path, { config, shard: null, startedAt: '2026-01-02T00:00:00.000Z' }, []).close();
    expect(readJournal(path).results.runs).toEqual([]);
  });

  it('ignores a torn last line with a warning, whether cut before its newline or not JSON', () => {
    const path = join(dir(), 'run.journal.jsonl');
    const j = Journal.create(path, { config, shard: null, startedAt: '2026-01-01T00:00:00.000Z' }, []);
    j.appendRound({ strategy: 'entropy', repeat: 0 }, round(0, 0));
    j.close();
    const whole = readFileSync(path, 'utf8');
    const cut = JSON.stringify({ type: 'round', strategy: 'entropy', repeat: 0, record: round(1, 0) }).slice(0, 40);
    appendFileSync(path, cut);
    const torn = readJournal(path);
    expect(torn.warnings).toEqual([`${path}: ignored the last line (3), cut short by an interrupted write (40 characters, no newline)`]);
    expect(torn.results.runs[0]!.rounds).toHaveLength(1);
    // A complete record that lost only its newline is still a cut write: ignored.
    const noNewline = parseJournal(whole + JSON.stringify({ type: 'round', strategy: 'entropy', repeat: 0, record: round(1, 0) }), 'j');
    expect(noNewline.warnings[0]).toMatch(/^j: ignored the last line \(3\), cut short/);
    expect(noNewline.results.runs[0]!.rounds).toHaveLength(1);
    const garbage = parseJournal(`${whole}\u0000\u0000\u0000\n`, 'j');
    expect(garbage.warnings).toEqual(['j: ignored the last line (3), which is not JSON (an interrupted write)']);
    expect(garbage.results.runs[0]!.rounds).toHaveLength(1);
  });

  it('refuses a broken journal naming the line and the field', () => {
    const path = join(dir(), 'run.journal.jsonl');
    const j = Journal.create(path, { config, shard: null, startedAt: '2026-01-01T00:00:00.000Z' }, []);
    j.appendRound({ strategy: 'entropy', repeat: 0 }, round(0, 0));
    j.appendRound({ strategy: 'entropy', repeat: 0 }, round(1, 0));
    j.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    const bad = (f: (ls: string[]) => void) => {
      const ls = [...lines];
      f(ls);
      return () => parseJournal(ls.join('\n'), 'j');
    };
    expect(bad((ls) => (ls[1] = '{not json'))).toThrow("j line 2 = '{not json' is not allowed: a JSON record of a journal");
    expect(bad((ls) => (ls[0] = '{"type":"round"}'))).toThrow(`j line 1 = 'a record of type "round"' is not allowed: a journal header`);
    expect(bad((ls) => (ls[2] = ls[2]!.replace('"accuracy":0.6', '"accuracy":1.6')))).toThrow('j line 3 (entropy #0): record.accuracy = 1.6 is not allowed: a finite number in [0, 1]');
    expect(bad((ls) => (ls[2] = ls[2]!.replace('"round":1', '"round":2')))).toThrow('j line 3 (entropy #0): record.round = 2 is not allowed');
    expect(bad((ls) => (ls[2] = ls[2]!.replace('"strategy":"entropy"', '"strategy":"bald"')))).toThrow("j line 3 (bald #0): strategy = 'bald' is not allowed: one of entropy, random");
    expect(bad((ls) => (ls[0] = ls[0]!.replace('"seed":1', '"seed":"x"')))).toThrow("j line 1: config.seed = 'x' is not allowed");
    expect(bad((ls) => (ls[1] = ls[1]!.replace('"type":"round"', '"type":"rund"')))).toThrow("j line 2: type = 'rund' is not allowed: 'round' or 'run'");
    expect(bad((ls) => ls.splice(2, 0, '{"type":"run","strategy":"entropy","repeat":0,"status":"complete"}'))).toThrow('j line 4 = \'a round of entropy #0\' is not allowed: no round after the record that ended the cell');
  });
});

describe('results fields of a sweep', () => {
  const base = (): ExperimentResults => ({
    version: 1, config, environment: { backend: 'wasm', renderer: null, userAgent: null }, status: 'aborted', startedAt: '2026-01-01T00:00:00.000Z', elapsedMs: 5,
    runs: [{ strategy: 'entropy', repeat: 1, status: 'complete', rounds: [round(0, 0), round(1, 0), round(2, 0)] }], summary: [],
  });

  it('keeps shard, absent and workers when valid', () => {
    const r = {
      ...base(), shard: { index: 1, count: 2 }, absent: [{ strategy: 'random', repeat: 0 }],
      workers: [{ worker: 1, pid: 42, shard: 1, cells: [{ strategy: 'entropy', repeat: 1 }], peakRssBytes: 1e8, peakTensorBytes: 1e5, peakTensors: 9, exit: 'was killed by SIGKILL' }],
    };
    const v = validateResults(JSON.parse(JSON.stringify(r)));
    // The summary is recomputed from the runs (a file's own is never trusted); the rest is kept.
    expect({ ...v, summary: [] }).toEqual(r);
    expect(v.summary.map((s) => s.strategy)).toEqual(['entropy']);
  });

  it.each([
    ['a shard index out of range', (r: Record<string, unknown>) => (r.shard = { index: 2, count: 2 }), 'results.shard.index = 2 is not allowed: an integer from 0 to 1'],
    ['an absent cell of another config', (r: Record<string, unknown>) => (r.absent = [{ strategy: 'bald', repeat: 0 }]), "results.absent[0].strategy = 'bald' is not allowed: one of entropy, random"],
    ['a worker without its peak memory', (r: Record<string, unknown>) => (r.workers = [{ worker: 1, pid: 1, cells: [], peakTensorBytes: 0, peakTensors: 0, exit: null }]), 'results.workers[0].peakRssBytes is missing'],
  ])('refuses %s by its path', (_what, edit, message) => {
    const r = JSON.parse(JSON.stringify(base())) as Record<string, unknown>;
    edit(r);
    expect(() => validateResults(r)).toThrow(message);
  });
});

// A journal can also be written by hand-rolled tools: the reader takes exactly the format documented.
it('reads a journal written as the module documents it', () => {
  const path = join(dir(), 'x.journal.jsonl');
  writeFileSync(path, [
    JSON.stringify({ type: 'header', format: 'activelab-journal', version: 1, config, shard: null, startedAt: '2026-01-01T00:00:00.000Z' }),
    JSON.stringify({ type: 'round', strategy: 'random', repeat: 1, record: round(0, 5) }),
    '',
  ].join('\n'));
  expect(readJournal(path).results.runs.map((r) => [r.strategy, r.repeat, r.rounds.length])).toEqual([['random', 1, 1]]);
});
