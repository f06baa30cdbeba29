/**
 * End to end, the user's own data in the page: a folder of class folders made here (3 classes x 8
 * PNGs of 28x28, and one file that is not an image) given to the folder input, decoded in the
 * worker; its summary (class counts, samples, the skipped file); rounds run on it; the page
 * reloaded mid-run resumes it from IndexedDB (the kept files decoded again); the results exported
 * and opened again; a CSV table trains in the page; removed, its results file and a link to it
 * say which data is missing. A single-class folder is refused with its message. A folder without
 * class folders (2 shapes x 10 PNGs) is refused until its classes are named, refused by Run, and
 * labeled in "Label it yourself" by keyboard from round 0 (a reload mid-batch resumes), with no
 * accuracy shown. Wasm and logistic regression, tiny.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { appQuery, collectErrors, cspViolations, buildSession, recordCspViolations, waitForReady, waitForStatus } from './helpers.ts';

const app = buildSession();
const CLASSES = ['circle', 'cross', 'square'];
const PER_CLASS = 8;
let dir = '';
let folder = '';
let loose = '';

/** A 28x28 grayscale PNG: class c's shape at a position that varies with i. */
function png(c: number, i: number): Buffer {
  const img = new PNG({ width: 28, height: 28 });
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const dx = x - 14 - (i % 3), dy = y - 14 + (i % 2);
      const on = c === 0 ? Math.abs(Math.hypot(dx, dy) - 8) < 2 : c === 1 ? Math.abs(dx) < 2 || Math.abs(dy) < 2 : Math.max(Math.abs(dx), Math.abs(dy)) < 9;
      const o = (y * 28 + x) * 4;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = on ? 255 : 10 * (i % 3);
      img.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(img);
}

function csv(): string {
  const lines = ['f1,f2,f3,label'];
  for (let i = 0; i < 40; i++) {
    const c = i % 2;
    lines.push(`${(c * 3 + (i % 5) * 0.3).toFixed(2)},${((i % 7) * 0.5 - c).toFixed(2)},${(i * 0.1).toFixed(2)},${c ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'activelab-own-'));
  folder = join(dir, 'shapes');
  for (const [c, name] of CLASSES.entries()) {
    await mkdir(join(folder, name), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) await writeFile(join(folder, name, `${String(i).padStart(3, '0')}.png`), png(c, i));
  }
  await writeFile(join(folder, 'square', 'broken.png'), 'not a png');
  // Images without labels: 2 shapes x 10, no class folders.
  loose = join(dir, 'loose');
  await mkdir(loose, { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(loose, `${String(i).padStart(3, '0')}.png`), png(i % 2, i));
  // A separate test folder of the same classes, 2 images each.
  for (const [c, name] of CLASSES.entries()) {
    await mkdir(join(dir, 'held', name), { recursive: true });
    for (let i = 0; i < 2; i++) await writeFile(join(dir, 'held', name, `t${i}.png`), png(c, i + 5));
  }
  await mkdir(join(dir, 'solo', 'only'), { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(dir, 'solo', 'only', `${i}.png`), png(0, i));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Batches of one row and 20 epochs make a round long enough that Pause, sent as the first query round arrives, lands mid-run.
const CONFIG = { model: 'logreg', strategies: 'entropy', initial: 10, balanced: true, query: 1, rounds: 6, repeats: 1, epochs: 20, batchSize: 1, poolSubset: null, testSubset: null, seed: 3, backend: 'wasm' };
/** Clicks Pause as soon as the worker reports round `window.__pauseAt` (once). */
const PAUSE_HOOK = () => {
  const Base = window.Worker;
  window.Worker = class extends Base {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      this.addEventListener('message', (e: MessageEvent) => {
        const w = window as unknown as { __pauseAt?: number };
        const m = e.data as { type?: string; event?: { type?: string; record?: { round?: number } } } | null;
        if (w.__pauseAt === undefined || m?.type !== 'event' || m.event?.type !== 'round' || (m.event.record?.round ?? -1) < w.__pauseAt) return;
        delete w.__pauseAt;
        setTimeout(() => document.querySelector<HTMLButtonElement>('#pause-btn')!.click());
      });
    }
  };
};
const results = (page: Page) => page.evaluate(() => window.activelab!.results()) as Promise<ExperimentResults | null>;

describe('your own data in the page (Chromium, wasm)', { timeout: 180_000 }, () => {
  it('a picked folder: summary, rounds, a reload that resumes from storage, Open results; a CSV trains; removed, it is asked for', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors = collectErrors(page);
    await recordCspViolations(page);
    await page.addInitScript(PAUSE_HOOK);
    await page.goto(`${app.url}${appQuery(CONFIG)}`);
    await waitForReady(page);
    // Data that cannot be used: its message, as text; nothing is added.
    await page.setInputFiles('#data-folder', join(dir, 'solo'));
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#data-status')?.dataset.state === 'error', undefined, { timeout: 30_000 });
    expect(await page.textContent('#data-status')).toBe('Could not use solo: solo: a single class (only): at least two class folders are needed');
    expect(await page.$$eval('#f-dataset option', (o) => o.map((x) => (x as HTMLOptionElement).value))).not.toContain('solo');

    await page.setInputFiles('#data-folder', folder);
    await page.waitForSelector('#data-summary h3', { timeout: 30_000 });
    const summary = (await page.textContent('#data-summary'))!;
    expect(summary).toContain('24 images of 28x28x1, 3 classes');
    for (const name of CLASSES) expect(summary).toContain(`${name}: ${PER_CLASS}`);
    expect(summary).toMatch(/1 problem found[\s\S]*shapes\/square\/broken\.png: cannot be decoded/);
    expect(await page.$$eval('#data-summary canvas', (c) => c.length)).toBe(24);
    expect(await page.inputValue('#f-dataset')).toBe('shapes');
    expect(await page.textContent('#data-list')).toContain('shapes');

    // Paused from the worker's first query round (a round here takes milliseconds, faster than the page draws it).
    await page.evaluate(() => ((window as unknown as { __pauseAt: number }).__pauseAt = 1));
    await page.click('#run-btn');
    await waitForStatus(page, /^paused$/, 60_000);
    const before = (await results(page))!;
    const kept = before.runs[0]!.rounds.length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(7);

    await page.reload();
    await waitForReady(page);
    // The link (with the data's hash) names the kept dataset: chosen again, its summary shown, no complaint.
    expect(page.url()).toContain('dataHash=');
    expect(await page.inputValue('#f-dataset')).toBe('shapes');
    expect(await page.textContent('#data-summary h3')).toBe('shapes');
    expect(await page.textContent('#err-dataset')).toBe('');
    await page.waitForSelector('#resume-run', { timeout: 30_000 });
    expect(await page.textContent('.resume-offer')).toContain('shapes');
    await page.click('#resume-run');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 60_000)).toBe('complete');
    const after = (await results(page))!;
    expect(after.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(after.runs[0]!.rounds.slice(0, kept).map(({ ms: _, ...r }) => r)).toEqual(before.runs[0]!.rounds.slice(0, kept).map(({ ms: _, ...r }) => r));
    expect(after.dataset?.name).toBe('shapes');
    expect(after.dataset?.sizes).toEqual({ train: 19, test: 5 });

    // Its results file opens again on this page (same name and hash).
    await page.setInputFiles('#open-results', { name: 'shapes.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(after)) });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#open-status')?.dataset.state === 'ok', undefined, { timeout: 30_000 });
    expect(await page.textContent('#open-status')).toContain('Opened shapes.json: shapes · logreg');

    // A CSV table: string labels, standardized features; trains to the end.
    await page.setInputFiles('#data-table', { name: 'points.csv', mimeType: 'text/csv', buffer: Buffer.from(csv()) });
    await page.waitForFunction(() => document.querySelector('#data-summary h3')?.textContent === 'points', undefined, { timeout: 30_000 });
    expect(await page.textContent('#data-summary')).toContain('40 rows of 3 features, 2 classes');
    expect(await page.inputValue('#f-dataset')).toBe('points');
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 60_000)).toBe('complete');
    const table = (await results(page))!;
    expect(table.config.dataset).toBe('points');
    expect(table.dataset?.standardization?.mean).toHaveLength(3);
    expect(table.dataset?.classNames).toEqual(['no', 'yes']);

    // Removed: no longer offered; its results file then says which data is missing, and so does a link to it.
    await page.click('#data-list button[aria-label="Remove points"]');
    expect(await page.$$eval('#f-dataset option', (o) => o.map((x) => (x as HTMLOptionElement).value))).not.toContain('points');
    const hash = table.dataset!.hash;
    await page.setInputFiles('#open-results', { name: 'points.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(table)) });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#open-status')?.dataset.state === 'error', undefined, { timeout: 30_000 });
    expect(await page.textContent('#open-status')).toBe(`Could not open points.json: it was made on your own data 'points' (hash ${hash.slice(0, 16)}…); 'points' is your own data, which this browser does not keep: add its folder or table under "Your own data"`);
    await page.goto(`${app.url}${appQuery({ ...CONFIG, dataset: 'points' })}&dataHash=${hash}`);
    await page.waitForSelector('#config-form');
    expect(await page.textContent('#err-dataset')).toContain(`From the link: 'points' (hash ${hash.slice(0, 16)}…) is someone's own data, which this browser does not have: add that folder or table under "Your own data"`);

    expect(errors).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });

  it('the split in the page: a test fraction, then a separate test folder (the summary shows the sizes)', async () => {
    const page = await app.browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${app.url}${appQuery(CONFIG)}`);
    await waitForReady(page);
    const size = () => page.textContent('#data-summary .data-size');
    await page.fill('#data-test-fraction', '0.5');
    await page.setInputFiles('#data-folder', folder);
    await page.waitForSelector('#data-summary h3', { timeout: 30_000 });
    expect(await size()).toContain('24 images of 28x28x1, 3 classes; 12 to train on (the pool), 12 to test (test fraction 0.5, held out stratified)');
    await page.setInputFiles('#data-test-folder', join(dir, 'held'));
    expect(await page.textContent('#data-test-status')).toBe('Test set: held (6 files), used when you add the data.');
    await page.setInputFiles('#data-folder', folder);
    await page.waitForFunction(() => (document.querySelector('#data-summary .data-size')?.textContent ?? '').includes('the test set held'), undefined, { timeout: 30_000 });
    expect(await size()).toContain('30 images of 28x28x1, 3 classes; 24 to train on (the pool), 6 to test (the test set held)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a folder without class folders: classes named, refused by Run, labeled in "Label it yourself" by keyboard, resumed mid-batch, no accuracy', async () => {
    const LOOSE = { model: 'logreg', strategies: 'entropy', initial: 4, balanced: false, query: 2, rounds: 2, repeats: 1, epochs: 2, stopSet: 10, poolSubset: null, testSubset: null, seed: 3, backend: 'wasm' };
    const page = await app.browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors = collectErrors(page);
    await recordCspViolations(page);
    await page.goto(`${app.url}${appQuery(LOOSE)}`);
    await waitForReady(page);
    // Without class names it is refused, saying how it is taken.
    await page.setInputFiles('#data-folder', loose);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#data-status')?.dataset.state === 'error', undefined, { timeout: 30_000 });
    expect(await page.textContent('#data-status')).toMatch(/^Could not use loose: loose: an unlabeled folder \(20 images, no class subfolders\): unlabeled images are taken only by "Label it yourself" in the page, where you give every label: name its classes in the Classes field/);
    await page.fill('#data-classes', 'circle, cross');
    await page.setInputFiles('#data-folder', loose);
    await page.waitForFunction(() => document.querySelector('#data-summary h3')?.textContent === 'loose', undefined, { timeout: 30_000 });
    expect(await page.textContent('#data-summary')).toContain('20 images of 28x28x1, no labels; classes you named: circle (key 0), cross (key 1); no test set (accuracy needs labeled test data)');
    expect(await page.inputValue('#f-dataset')).toBe('loose');
    // A simulated run is refused, saying where it is taken.
    await page.click('#run-btn');
    await page.waitForSelector('#messages .message.error');
    expect(await page.textContent('#messages .message.error')).toContain('loose has no labels (a folder without class folders), so it is taken only by "Label it yourself"');

    /** Waits for round `round`'s batch; returns its rows. */
    const batch = async (round: number) => {
      await page.waitForFunction((r) => (document.querySelector('#label-note')?.textContent ?? '').startsWith(`Round ${r}:`) && document.querySelectorAll('#label-batch .label-tile').length > 0, round, { timeout: 60_000, polling: 100 });
      return page.$$eval('#label-batch .label-tile', (ts) => ts.map((t) => Number((t as HTMLElement).dataset.row)));
    };
    const keys = async (...ks: string[]) => {
      for (const k of ks) await page.keyboard.press(k);
    };
    expect(await page.inputValue('#label-dataset')).toBe('loose');
    await page.focus('#label-start');
    await keys('Enter');
    // Round 0: the random initial set, labeled like any batch (no model yet: no guesses).
    const rows0 = await batch(0);
    expect(rows0).toHaveLength(4);
    expect(await page.$$eval('#label-batch .label-guesses li', (li) => li.length)).toBe(0);
    await page.focus('#label-batch');
    await keys('0', '1', ' ', '1', 'Enter');
    // Round 1: one answer, then a reload mid-batch; resumed at the next item.
    const rows1 = await batch(1);
    await keys('1');
    await page.waitForFunction(() => document.querySelector('#label-batch .label-tile')?.getAttribute('data-answer') === '1');
    await page.waitForTimeout(300); // the answer's IndexedDB write
    await page.reload();
    await waitForReady(page);
    await page.waitForSelector('#resume-run', { timeout: 30_000 });
    await page.click('#resume-run');
    expect(await batch(1)).toEqual(rows1);
    expect(await page.$$eval('#label-batch .label-tile', (ts) => ts.map((t) => (t as HTMLElement).dataset.answer ?? ''))).toEqual(['1', '']);
    await page.focus('#label-batch');
    await keys('0', 'Enter');
    const rows2 = await batch(2);
    await keys('0', '0', 'Enter');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 60_000)).toBe('complete');

    // What can be shown: labels per class, the stopping advice, and that accuracy needs labeled test data.
    expect(await page.textContent('#label-curve')).toContain('accuracy needs labeled test data');
    expect(await page.$$eval('#label-curve .label-class-counts li', (li) => li.map((l) => (l as HTMLElement).dataset.count))).toEqual(['4', '3']);
    expect(await page.textContent('#label-curve .label-advice')).toMatch(/^Predictions (stable since round \d|not stable yet: Cohen's kappa between the last two models on the stop set)/);
    const typed = [[rows0, [0, 1, -1, 1]], [rows1, [1, 0]], [rows2, [0, 0]]] as const;
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-labels')]);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    expect(csv.slice(1).map((l) => l.split(',').filter((_, k) => k !== 4).join(','))).toEqual(
      typed.flatMap(([rows, labels], r) => rows.map((row, p) => `${row},${labels[p]},${r},entropy,`)));
    const res = (await results(page))!;
    const run = res.runs[0]!;
    expect(run.oracle).toBe('human');
    expect(run.rounds.map((r) => [r.selected, r.labels, r.accuracy])).toEqual(typed.map(([rows, labels]) => [rows, labels, null]));
    expect(run.rounds.map((r) => r.labeled)).toEqual([3, 5, 7]);
    expect(res.summary[0]!.finalAccuracy).toBeNull();
    expect(res.dataset).toMatchObject({ name: 'loose', unlabeled: true, sizes: { train: 20, test: 0 }, classNames: ['circle', 'cross'] });
    expect(errors).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });
});
