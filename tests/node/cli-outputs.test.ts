/** The output pre-flight and the atomic writes of src/cli/outputs.ts, on real folders in the temporary folder. */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkOutputs, fsReason, nodeFs, OutputError, plannedOutputs, writeFallback, writeOutputFile, type OutputFs, type OutputTarget } from '../../src/cli/outputs.ts';
import { UsageError } from '../../src/cli/args.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const fresh = () => mkdtempSync(join(tmpdir(), 'activelab-out-'));
const file = (path: string, what = 'results JSON'): OutputTarget => ({ what, flag: '--out', path, kind: 'file' });

/** An error as node's fs raises it. */
function fsError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

/** nodeFs, recording every call, with `fail` deciding which calls throw instead. */
function recording(fail: (op: keyof OutputFs, path: string) => NodeJS.ErrnoException | null = () => null) {
  const calls: [keyof OutputFs, string][] = [];
  const wrap = <K extends keyof OutputFs>(op: K) =>
    ((path: string, arg: string) => {
      calls.push([op, path]);
      const err = fail(op, path);
      if (err) throw err;
      return (nodeFs[op] as (a: string, b: string) => unknown)(path, arg);
    }) as OutputFs[K];
  const fs: OutputFs = { isFolder: wrap('isFolder'), mkdir: wrap('mkdir'), create: wrap('create'), rename: wrap('rename'), remove: wrap('remove') };
  return { fs, calls };
}

describe('checkOutputs', () => {
  it('plans the results JSON, the CSV, the SVG and the journal beside it', () => {
    const o = plannedOutputs({ out: 'results/run.json' });
    expect(Object.values(o).map((t) => [t.what, t.path])).toEqual([
      ['results JSON', resolve('results/run.json')],
      ['CSV', resolve('results/run.csv')],
      ['SVG chart', resolve('results/run.svg')],
      ['journal', resolve('results/run.journal.jsonl')],
    ]);
  });

  it('creates the missing folders one plain mkdir per level, outermost first, and leaves no probe file', () => {
    const dir = fresh();
    const { fs, calls } = recording();
    checkOutputs(Object.values(plannedOutputs({ out: join(dir, 'a', 'b', 'c', 'run.json') })), fs);
    expect(calls.filter(([op]) => op === 'mkdir').map(([, p]) => p)).toEqual([join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]);
    expect(readdirSync(join(dir, 'a', 'b', 'c'))).toEqual([]);
    // A probe was made and removed beside each of the four targets.
    const probes = calls.filter(([op]) => op === 'create').map(([, p]) => p);
    expect(probes).toHaveLength(4);
    expect(calls.filter(([op]) => op === 'remove').map(([, p]) => p)).toEqual(probes);
    for (const p of probes) expect(p.startsWith(join(dir, 'a', 'b', 'c', '.'))).toBe(true);
  });

  it('refuses a target whose parent is a file, or any folder above it', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'plain'), 'x');
    for (const out of [join(dir, 'plain', 'run.json'), join(dir, 'plain', 'deeper', 'run.json')]) {
      const err = (() => {
        try {
          checkOutputs([file(out)]);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(OutputError);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(`--out: cannot write the results JSON to ${out}: ${join(dir, 'plain')} is a file, not a folder`);
    }
    expect(readFileSync(join(dir, 'plain'), 'utf8')).toBe('x');
  });

  it('refuses a target that is a folder', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'run.json'));
    expect(() => checkOutputs([file(join(dir, 'run.json'))])).toThrow(`--out: cannot write the results JSON to ${join(dir, 'run.json')}: it is a folder; give a file name`);
    expect(() => checkOutputs([file(dir)])).toThrow(`it is a folder`);
  });

  it('refuses an unwritable folder (a stubbed EACCES) by path and reason, and creates nothing', () => {
    const dir = fresh();
    const { fs } = recording((op) => (op === 'create' ? fsError('EACCES', 'open', dir) : null));
    expect(() => checkOutputs([file(join(dir, 'run.json'))], fs)).toThrow(
      `--out: cannot write the results JSON to ${join(dir, 'run.json')}: cannot create a file in ${dir}: permission denied (EACCES)`,
    );
    const { fs: noMkdir } = recording((op) => (op === 'mkdir' ? fsError('EROFS', 'mkdir', dir) : null));
    expect(() => checkOutputs([file(join(dir, 'sub', 'run.json'))], noMkdir)).toThrow(
      `cannot create the folder ${join(dir, 'sub')}: the file system is read-only (EROFS)`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a folder that cannot be looked into, and a probe that cannot be removed', () => {
    const dir = fresh();
    const { fs } = recording((op, p) => (op === 'isFolder' && p === dir ? fsError('EACCES', 'stat', dir) : null));
    expect(() => checkOutputs([file(join(dir, 'sub', 'run.json'))], fs)).toThrow(`cannot look at ${dir}: permission denied (EACCES)`);
    const { fs: sticky } = recording((op) => (op === 'remove' ? fsError('EPERM', 'unlink', dir) : null));
    expect(() => checkOutputs([file(join(dir, 'run.json'))], sticky)).toThrow(/cannot remove the probe file .*\.probe: operation not permitted \(EPERM\)/);
  });

  it.runIf(process.platform === 'linux')('refuses a path under /proc at once instead of spinning in mkdir', () => {
    expect(() => checkOutputs([file('/proc/activelab-no-such/deeper/run.json')])).toThrow(
      '--out: cannot write the results JSON to /proc/activelab-no-such/deeper/run.json: cannot create the folder /proc/activelab-no-such: the file system refuses to create it (ENOENT)',
    );
  });

  it('refuses two outputs on the same path', () => {
    const dir = fresh();
    expect(() => checkOutputs([file(join(dir, 'x')), file(join(dir, 'x'), 'journal')])).toThrow(`cannot write the journal to ${join(dir, 'x')}: the results JSON (--out) is written there too`);
  });

  it('checks a folder output (such as a models folder): creates it, probes inside it, refuses a file', () => {
    const dir = fresh();
    const models: OutputTarget = { what: 'models folder', flag: '--save-models', path: join(dir, 'm', 'n'), kind: 'folder' };
    const { fs, calls } = recording();
    checkOutputs([models], fs);
    expect(readdirSync(join(dir, 'm', 'n'))).toEqual([]);
    expect(calls.find(([op]) => op === 'create')![1].startsWith(join(dir, 'm', 'n', '.'))).toBe(true);
    writeFileSync(join(dir, 'f'), '');
    expect(() => checkOutputs([{ ...models, path: join(dir, 'f') }])).toThrow(`--save-models: cannot write the models folder to ${join(dir, 'f')}: ${join(dir, 'f')} is a file, not a folder`);
  });

  // A real permission refusal needs a user that is not root. As root, the CLI runs as `nobody`;
  // as another user, the folder is made read-only for them.
  it('refuses a folder the user may not write, in a real process that stops before any work', async () => {
    const dir = fresh();
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    const asRoot = process.getuid?.() === 0;
    chmodSync(dir, 0o755);
    chmodSync(locked, asRoot ? 0o755 : 0o555);
    const out = join(locked, 'run.json');
    const r = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/experiment.ts', '--dataset', 'moons', '--model', 'logreg', '--strategies', 'entropy', '--out', out],
      { cwd: ROOT, timeout: 120_000, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    chmodSync(locked, 0o755);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: --out: cannot write the results JSON to ${out}: cannot create a file in ${locked}: permission denied (EACCES)\n`);
    expect(readdirSync(locked)).toEqual([]);
  });
});

describe('writeOutputFile and writeFallback', () => {
  it('replaces a file atomically and leaves nothing beside it', () => {
    const dir = fresh();
    const path = join(dir, 'run.json');
    writeFileSync(path, 'old');
    writeOutputFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['run.json']);
  });

  it('a failed rename keeps the old file whole and removes the temporary one', () => {
    const dir = fresh();
    const path = join(dir, 'run.json');
    writeFileSync(path, 'old');
    const { fs } = recording((op) => (op === 'rename' ? fsError('ENOSPC', 'rename', path) : null));
    let err: unknown;
    try {
      writeOutputFile(path, 'new', fs);
    } catch (e) {
      err = e;
    }
    expect(fsReason(err)).toBe('no space left on the device (ENOSPC)');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['run.json']);
  });

  it('writes the fallback to a new file in the given folder (the temporary folder by default)', () => {
    const dir = fresh();
    const path = writeFallback('{"x":1}', 'activelab-results', nodeFs, dir);
    expect(path.startsWith(join(dir, 'activelab-results-'))).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('{"x":1}');
    const inTmp = writeFallback('{}', 'activelab-test-fallback');
    expect(existsSync(inTmp) && inTmp.startsWith(join(tmpdir(), 'activelab-test-fallback-'))).toBe(true);
    unlinkSync(inTmp);
  });
});
