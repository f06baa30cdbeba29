/**
 * Sweeps as a user runs them: `npm run experiment` in child processes, with worker processes,
 * signals, kill -9, shards and `npm run merge`; results files compared with an uninterrupted
 * `--jobs 1` run of the same configuration (wasm, where results are bit-reproducible).
 */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/index.ts';
import { main, type CliIo } from '../../src/cli/main.ts';
import { mergeMain } from '../../src/cli/merge.ts';
import { Journal } from '../../src/cli/journal.ts';
import { nodeFs } from '../../src/cli/outputs.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const execute = promisify(execFile);

/** 4 cells (entropy, random x 2 repeats) of 7 rounds; 20 epochs make a round take a few tens of ms. */
const ARGS = ['--dataset', 'moons', '--model', 'mlp', '--strategies', 'entropy,random', '--repeats', '2', '--rounds', '6', '--epochs', '20',
  '--initial', '6', '--query', '4', '--test-subset', '200', '--seed', '3'];
const ROUNDS = 4 * 7;

async function node(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, timeout: 240_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const cli = (args: string[], env?: Record<string, string>) => node('src/cli/experiment.ts', args, env);
const merge = (args: string[]) => node('src/cli/merge-cli.ts', args);
/**
 * `main` or `mergeMain` in this process, for the cases whose claim is not about a separate process
 * (each CLI process costs about 2 CPU-s to start): the exit code and what was written.
 */
async function inProcess(entry: typeof main, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => ((stdout += t), true) }, stderr: { write: (t: string) => ((stderr += t), true) }, fs: nodeFs, env };
  const code = await entry(args, io);
  return { code, stdout, stderr };
}

/**
 * A run's stderr as it arrives: `until(re)` resolves with the first match, or rejects if the run
 * ends (`exit`) before its stderr matches.
 */
function stderrWatch() {
  const waiting: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const watch = {
    text: '',
    add(t: string): void {
      watch.text += t;
      for (const w of [...waiting]) {
        const m = watch.text.match(w.re);
        if (m) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(m);
        }
      }
    },
    until(re: RegExp, exit: Promise<{ code: number | null; signal?: NodeJS.Signals | null; stderr: string }>): Promise<RegExpMatchArray> {
      return new Promise((res, rej) => {
        const m = watch.text.match(re);
        if (m) return res(m);
        waiting.push({ re, resolve: res });
        void exit.then((e) => rej(new Error(`exited (${e.code ?? e.signal}) before ${re}:\n${e.stderr}`)));
      });
    },
  };
  return watch;
}

/** `main` started in this process (as `started` starts a CLI process): `until` resolves when its stderr matches. */
function startedInProcess(args: string[]) {
  let stdout = '';
  const stderr = stderrWatch();
  const io: CliIo = {
    stdout: { write: (t: string) => ((stdout += t), true) },
    stderr: { write: (t: string) => (stderr.add(t), true) },
    fs: nodeFs,
    env: {},
  };
  const exit = main(args, io).then((code) => ({ code, stdout, stderr: stderr.text }));
  return { exit, until: (re: RegExp) => stderr.until(re, exit) };
}

/** A CLI process to signal: `until` resolves when its stderr matches. */
function started(args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const stderr = stderrWatch();
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => stderr.add(d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) =>
    proc.on('exit', (code, signal) => setImmediate(() => res({ code, signal, stdout, stderr: stderr.text }))));
  return { proc, exit, stderr: () => stderr.text, until: (re: RegExp) => stderr.until(re, exit) };
}
/** Progress lines (stderr is not a terminal) say "N/28 rounds": at least `n` done. */
const roundsDone = (n: number) => new RegExp(`\\b(${Array.from({ length: ROUNDS - n + 1 }, (_, i) => n + i).join('|')})/${ROUNDS} rounds`);

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as ExperimentResults;
/** What must match between two runs: everything but timings, dates, pids and memory. */
const comparable = (r: ExperimentResults) => ({
  config: r.config,
  status: r.status,
  runs: r.runs.map((run) => ({ ...run, rounds: run.rounds.map(({ ms: _ms, ...rest }) => rest) })),
  summary: r.summary,
});
/**
 * The sweep-worker processes forked by `pid`, read from Linux's /proc. A worker exists from its
 * fork, before it reports its pid on stderr (its first cell), which a slow start can delay past
 * the rounds a faster worker has done.
 */
const workerPids = (pid: number) =>
  readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('sweep-worker') ? [Number(d)] : [];
    } catch {
      return []; // ended meanwhile
    }
  });
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

let dir: string;
let full: ExperimentResults;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'activelab-sweep-'));
  // In this process: the reference is what any run of ARGS writes (the --jobs 2, shard and resumed
  // runs below, in child processes, must match it).
  const r = await inProcess(main, [...ARGS, '--jobs', '1', '--out', join(dir, 'full.json')]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('4 cells, 4 to run in this process');
  full = read(join(dir, 'full.json'));
  expect(full.status).toBe('complete');
  expect(full.runs.map((x) => `${x.strategy}#${x.repeat}:${x.rounds.length}`)).toEqual(['entropy#0:7', 'random#0:7', 'entropy#1:7', 'random#1:7']);
}, 240_000);

describe('npm run experiment -- --jobs', () => {
  it('--jobs 2 writes the results of --jobs 1, and reports each worker\'s peak memory', async () => {
    const out = join(dir, 'jobs2.json');
    // main() in this process, forking its two worker processes (the workers are what is tested).
    const r = await inProcess(main, [...ARGS, '--jobs', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('4 cells, 4 to run in 2 worker processes');
    const res = read(out);
    expect(comparable(res)).toEqual(comparable(full));
    expect(res.workers).toHaveLength(2);
    expect(res.workers!.flatMap((w) => w.cells).length).toBe(4);
    for (const w of res.workers!) {
      expect(w.peakRssBytes).toBeGreaterThan(20 * 2 ** 20);
      expect(w.exit).toBeNull();
      // Which worker takes how many cells depends on timing; together they take all 4.
      expect(r.stdout).toMatch(new RegExp(`worker ${w.worker} \\(pid ${w.pid}\\): ${w.cells.length} cells?, peak RSS \\d+\\.\\d MiB, peak tensor memory`));
    }
    expect(existsSync(join(dir, 'jobs2.journal.jsonl'))).toBe(false); // removed once the results are written
  });

  it('a worker killed mid-cell fails that cell with its error, the others complete, exit 1; --resume then finishes it', async () => {
    const out = join(dir, 'killed.json');
    // main() in this process, with its two worker processes: one of them is killed.
    const run = startedInProcess([...ARGS, '--jobs', '2', '--out', out]);
    const [, n, pid] = await run.until(/worker (\d) \(pid (\d+)\): entropy #0\n/);
    await run.until(new RegExp(`worker ${n}: entropy #0 round 1:`));
    process.kill(Number(pid), 'SIGKILL');
    const e = await run.exit;
    expect(e.code, e.stderr).toBe(1);
    const res = read(out);
    expect(res.status).toBe('failed');
    const failed = res.runs.filter((r) => r.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toMatch(new RegExp(`^worker ${n} \\(pid ${pid}\\) was killed by SIGKILL during round \\d of ${failed[0]!.strategy} #${failed[0]!.repeat}`));
    expect(e.stderr).toContain(`error: ${failed[0]!.strategy} #${failed[0]!.repeat}: worker ${n} (pid ${pid}) was killed by SIGKILL`);
    const others = comparable(res).runs.filter((r) => r.status !== 'failed');
    expect(others).toEqual(comparable(full).runs.filter((r) => r.strategy !== failed[0]!.strategy || r.repeat !== failed[0]!.repeat));
    expect(res.workers!.find((w) => w.pid === Number(pid))!.exit).toBe('was killed by SIGKILL');
    expect(e.stdout).toMatch(new RegExp(`worker ${n} \\(pid ${pid}\\): \\d cells?, peak RSS .*; was killed by SIGKILL`));

    // The resume in this process (what is tested is the failed cell it finds and runs again).
    const resumed = await inProcess(main, ['--resume', out, '--jobs', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${out}: `);
    expect(comparable(read(out))).toEqual(comparable(full));
  });

  it('kill -9 of the run after a few rounds: --resume of its journal (torn last line and all) finishes with the uninterrupted results', async () => {
    const out = join(dir, 'crash.json');
    const journal = join(dir, 'crash.journal.jsonl');
    const run = started([...ARGS, '--jobs', '2', '--out', out]);
    await run.until(roundsDone(5));
    // Both workers, the second perhaps still starting (then it has not reported its pid yet).
    const pids = workerPids(run.proc.pid!);
    expect(pids).toHaveLength(2);
    for (const m of run.stderr().matchAll(/\(pid (\d+)\)/g)) expect(pids).toContain(Number(m[1]));
    run.proc.kill('SIGKILL');
    const e = await run.exit;
    expect(e.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    // The workers notice their parent is gone and end.
    for (let t = 0; t < 100 && !pids.every(gone); t++) await new Promise((r) => setTimeout(r, 50));
    expect(pids.every(gone)).toBe(true);
    const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(1 + 5);
    appendFileSync(journal, '{"type":"round","strategy":"entropy","repeat":1,"record":{"round":'); // a write cut short
    // The resume in this process (what is tested is the journal it reads).
    const r = await inProcess(main, ['--resume', journal, '--jobs', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${journal}: ignored the last line (${lines.length + 1}), cut short by an interrupted write`);
    expect(r.stderr).toMatch(new RegExp(`resuming ${journal}: ${lines.filter((l) => l.includes('"type":"round"')).length} completed rounds kept`));
    expect(comparable(read(out))).toEqual(comparable(full));
    expect(existsSync(journal)).toBe(false);
  });

  it('--resume of a results file also keeps the newer rounds of the journal beside it (a resumed run that was killed)', async () => {
    const out = join(dir, 'again.json');
    // The results file of a run stopped after entropy #0 and 2 rounds of random #0 ...
    const stopped: ExperimentResults = { ...structuredClone(full), status: 'aborted', runs: [structuredClone(full.runs[0]!), { ...structuredClone(full.runs[1]!), status: 'aborted', rounds: full.runs[1]!.rounds.slice(0, 2) }] };
    writeFileSync(out, JSON.stringify(stopped));
    // ... then resumed and killed after 2 more rounds of random #0: those are in the journal only.
    Journal.create(join(dir, 'again.journal.jsonl'), { config: full.config, shard: null, startedAt: full.startedAt },
      [stopped.runs[0]!, { ...stopped.runs[1]!, rounds: full.runs[1]!.rounds.slice(0, 4) }]).close();
    const r = await inProcess(main, ['--resume', out, '--jobs', '1']); // what is tested is what it keeps, not its workers
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`the journal ${join(dir, 'again.journal.jsonl')} holds 2 completed rounds more than ${out}: they are kept too`);
    expect(r.stderr).toContain('random #0, continuing after round 3');
    expect(comparable(read(out))).toEqual(comparable(full));
  });

  it.each([
    ['SIGTERM', '2', 143],
    ['SIGHUP', '1', 129],
  ] as const)('%s (--jobs %s) stops after the current step and writes the completed rounds, exit %i', async (signal, jobs, code) => {
    const out = join(dir, `${signal}.json`);
    // 41 rounds a cell instead of 7, so the signal lands mid-run even when this machine is so
    // loaded that reading the progress lags by seconds. Every stream derives from the seed by
    // name, so a cell's first 7 rounds are the 7-round run's.
    const run = started([...ARGS.map((a, i) => (ARGS[i - 1] === '--rounds' ? '40' : a)), '--jobs', jobs, '--out', out]);
    await run.until(/\b([3-9]|\d{2,3})\/164 rounds/);
    run.proc.kill(signal);
    const e = await run.exit;
    expect(e.code, e.stderr).toBe(code);
    expect(e.stderr).toContain(`${signal}: stopping after the current step`);
    const res = read(out);
    expect(res.status).toBe('aborted');
    const done = res.runs.reduce((a, r) => a + r.rounds.length, 0);
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(164);
    // Every round written is the uninterrupted run's (as far as that one goes).
    const want = comparable(full).runs;
    for (const r of comparable(res).runs) {
      const w = want.find((x) => x.strategy === r.strategy && x.repeat === r.repeat)!;
      const n = Math.min(r.rounds.length, w.rounds.length);
      expect(r.rounds.slice(0, n)).toEqual(w.rounds.slice(0, n));
    }
    expect(existsSync(join(dir, `${signal}.journal.jsonl`))).toBe(false);
  });
});

describe('npm run experiment -- --shard, npm run merge', () => {
  it('merging --shard 0/2 and --shard env/2 gives the unsharded results; a missing cell is named; other configs and overlaps are refused by name', async () => {
    const a = join(dir, 'shard0.json');
    const b = join(dir, 'shard1.json');
    // Shard 0 in this process; shard 1 as a job array runs it, a process with its index in the
    // environment, its cells in 2 worker processes.
    const [ra, rb] = [await inProcess(main, [...ARGS, '--jobs', '1', '--shard', '0/2', '--out', a]), await cli([...ARGS, '--jobs', '2', '--shard', 'env/2', '--out', b], { SLURM_ARRAY_TASK_ID: '1' })];
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(ra.stderr).toContain('2 cells (shard 0/2)');
    expect(read(a).runs.map((r) => `${r.strategy}#${r.repeat}`)).toEqual(['entropy#0', 'entropy#1']);
    expect(read(b).shard).toEqual({ index: 1, count: 2 });

    const all = join(dir, 'merged.json');
    const m = await merge([b, a, '--out', all]);
    expect(m.code, m.stderr).toBe(0);
    expect(comparable(read(all))).toEqual(comparable(full));
    expect(read(all).shard).toBeUndefined();
    expect(readFileSync(join(dir, 'merged.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + ROUNDS);

    const half = join(dir, 'half.json');
    // The merge that succeeds runs as `npm run merge` does, a process; the refusals in this one.
    const missing = await inProcess(mergeMain, [a, '--out', half]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error: missing cells: random #0, random #1');
    expect(read(half).absent).toEqual([{ strategy: 'random', repeat: 0 }, { strategy: 'random', repeat: 1 }]);
    expect(read(half).status).toBe('aborted');

    const other = join(dir, 'other-seed.json');
    writeFileSync(other, JSON.stringify({ ...read(b), config: { ...read(b).config, seed: 4 } }));
    const refused = await inProcess(mergeMain, [a, other, '--out', join(dir, 'no.json')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: ${a} and ${other} have different configurations: config.seed is 3 in ${a} and 4 in ${other}`);
    const overlap = await inProcess(mergeMain, [a, join(dir, 'full.json'), '--out', join(dir, 'no.json')]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain(`error: entropy #0 is in both ${a} and ${join(dir, 'full.json')}`);
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
  });
});

describe('main() in this process', () => {
  it('runs a sweep in worker processes from a test runner too', async () => {
    const out = join(dir, 'in-process.json');
    const { code, stdout } = await inProcess(main, ['--dataset', 'moons', '--model', 'logreg', '--strategies', 'entropy,random', '--rounds', '1', '--epochs', '2', '--initial', '6', '--query', '4', '--jobs', '2', '--out', out]);
    expect(code, stdout).toBe(0);
    expect(read(out).workers).toHaveLength(2);
    expect(read(out).workers!.reduce((a, w) => a + w.cells.length, 0)).toBe(2);
    expect(read(out).workers!.every((w) => w.pid !== process.pid)).toBe(true);
  });
});

describe('bad --jobs and --shard', () => {
  const io = () => {
    let stderr = '';
    const value: CliIo = { stdout: { write: () => true }, stderr: { write: (t: string) => ((stderr += t), true) }, fs: nodeFs, env: {} };
    return { value, stderr: () => stderr };
  };
  it.each([
    [['--jobs', '0'], "error: --jobs takes a whole number of worker processes, at least 1, got '0'"],
    [['--jobs', 'two'], "error: --jobs takes a whole number, got 'two'"],
    [['--jobs'], 'error: --jobs needs a value'],
    [['--shard', '2/2'], 'error: --shard 2/2: the index must be from 0 to 1'],
    [['--shard', '1'], "error: --shard takes I/N (shard I of N, 0 <= I < N) or env/N, got '1'"],
    [['--shard', 'env/3'], 'error: --shard env/3 reads the shard index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, and neither is set'],
    [['--resume', 'x.json', '--shard', '0/2'], 'error: --resume takes the configuration from x.json; --shard cannot be given with it (only --backend, --jobs, --out and --save-models)'],
  ])('%j exits 2 naming the flag, before any work', async (args, message) => {
    const o = io();
    const out = join(dir, 'never.json');
    const argv = args[0] === '--resume' ? [...args, '--out', out] : [...ARGS, ...args, '--out', out];
    expect(await main(argv, o.value)).toBe(2);
    expect(o.stderr()).toContain(message);
    expect(existsSync(out)).toBe(false);
  });
});
