/**
 * End to end, "Label it yourself" (src/app/label-controller.ts) on the smallest setup that shows
 * it: MNIST, logistic regression on wasm, batches of 3. Two rounds are labeled by keyboard alone
 * (one undo, one skip), the page is reloaded in the middle of the third batch, the run is resumed
 * and finished, and the labels CSV must hold exactly what was typed; the drawing pad must show the
 * model's probabilities for a drawn stroke, and the stroke, added as a 7, must be in the labeled set
 * (results JSON) and the CSV. No console error, no CSP violation.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { appQuery, cspViolations, buildSession, waitForReady, waitForStatus } from './helpers.ts';

const LABELING = {
  dataset: 'mnist', model: 'logreg', strategies: 'entropy', initial: 10, balanced: true, query: 3, rounds: 3,
  repeats: 1, epochs: 2, batchSize: 16, poolSubset: 60, testSubset: 100, seed: 5, backend: 'wasm',
};
const app = buildSession();

/** Waits for round `round`'s batch; returns its dataset rows, in order. */
async function batchOf(page: Page, round: number): Promise<number[]> {
  await page.waitForFunction((r) => {
    const note = document.querySelector('#label-note')?.textContent ?? '';
    return note.startsWith(`Round ${r}:`) && document.querySelectorAll('#label-batch .label-tile').length > 0;
  }, round, { timeout: 120_000, polling: 100 });
  return page.$$eval('#label-batch .label-tile', (tiles) => tiles.map((t) => Number((t as HTMLElement).dataset.row)));
}

/** The answers shown on the batch's tiles ('' = none yet). */
const answers = (page: Page) => page.$$eval('#label-batch .label-tile', (tiles) => tiles.map((t) => (t as HTMLElement).dataset.answer ?? ''));

/** Every answer saved in IndexedDB for the page's experiments, as `round:position=label`. */
const saved = (page: Page) => page.evaluate(() => new Promise<string[]>((resolve, reject) => {
  const req = indexedDB.open('activelab');
  req.onerror = () => reject(new Error('no database'));
  req.onsuccess = () => {
    const all = req.result.transaction('labels', 'readonly').objectStore('labels').getAll();
    all.onsuccess = () => resolve((all.result as { round: number; position: number; label: number }[]).map((a) => `${a.round}:${a.position}=${a.label}`).sort());
    all.onerror = () => reject(new Error('no labels'));
  };
}));

async function press(page: Page, ...keys: string[]): Promise<void> {
  for (const k of keys) await page.keyboard.press(k);
}

describe('Label it yourself (the built site, Chromium, wasm)', { timeout: 300_000 }, () => {
  it('labels MNIST by keyboard, survives a reload mid-batch, and exports what was typed; the pad shows probabilities and adds a drawn digit', async () => {
    const { page, errors } = await app.open(appQuery(LABELING));
    // Started from the keyboard: focus the strategy, Tab to Start, Enter.
    await page.focus('#label-strategy');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('label-start');
    await page.keyboard.press('Enter');

    // Round 1: 3, 5, undo, 4, skip, submit.
    const rows1 = await batchOf(page, 1);
    expect(rows1).toHaveLength(3);
    // The batch has the focus (visibly) and names its keys; each class button shows its key.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('label-batch');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    expect(await page.getAttribute('#label-batch', 'aria-label')).toMatch(/Round 1: 3 items to label, item 1 is next\. Keys: 0 to 9 label, Space skips, Backspace undoes, Enter submits\./);
    expect(await page.$$eval('#label-keys .class-key', (bs) => bs.map((b) => `${b.querySelector('kbd')?.textContent}|${b.getAttribute('aria-label')}`))).toEqual(
      Array.from({ length: 10 }, (_, c) => `${c}|Label ${c} (key ${c})`));
    // Each image with the model's top-3 guesses.
    expect(await page.$$eval('#label-batch .label-tile', (ts) => ts.map((t) => t.querySelectorAll('.label-guesses li').length))).toEqual([3, 3, 3]);
    await press(page, '3', '5');
    expect(await answers(page)).toEqual(['3', '5', '']);
    await press(page, 'Backspace');
    expect(await answers(page)).toEqual(['3', '', '']);
    await press(page, 'Enter'); // not every item answered: nothing is sent
    expect(await page.textContent('#label-note')).toMatch(/2 items still need a label or a skip/);
    await press(page, '4', ' ');
    expect(await answers(page)).toEqual(['3', '4', '-1']);
    await press(page, 'Enter');

    // Round 2: 0, 1, 2; meanwhile the pad gets a stroke and shows the model's probabilities.
    const rows2 = await batchOf(page, 2);
    const pad = (await page.$('#pad-canvas'))!;
    await pad.scrollIntoViewIfNeeded();
    await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.07 * i));
    await page.mouse.up();
    await page.waitForSelector('#pad-bars[data-state="probs"]', { timeout: 30_000 });
    const probs = await page.$$eval('#pad-bars .prob-value', (vs) => vs.map((v) => Number.parseFloat(v.textContent ?? '')));
    expect(probs).toHaveLength(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeGreaterThan(99);
    expect(probs.reduce((a, b) => a + b, 0)).toBeLessThan(101);
    // The drawing joins the labeled set as a 7, by keyboard: its key in the picker, then Add.
    await page.focus('#pad-classes .class-key');
    await press(page, '7');
    expect(await page.getAttribute('#pad-classes .class-key:nth-child(8)', 'aria-pressed')).toBe('true');
    await page.focus('#pad-add-button');
    await press(page, 'Enter');
    expect(await page.textContent('#pad-add-note')).toMatch(/^Added a drawn 7 to the labeled set: it joins with round 2's labels/);
    await page.focus('#label-batch');
    await press(page, '0', '1', '2', 'Enter');

    // Round 3: one label, saved at once; then the page reloads mid-batch.
    const rows3 = await batchOf(page, 3);
    await press(page, '9');
    await page.waitForFunction(() => document.querySelector('#label-batch .label-tile')?.getAttribute('data-answer') === '9');
    for (let i = 0; i < 50 && !(await saved(page)).includes('3:0=9'); i++) await page.waitForTimeout(100);
    expect(await saved(page)).toEqual(['1:0=3', '1:1=4', '1:2=-1', '2:0=0', '2:1=1', '2:2=2', '3:0=9']);
    await page.reload();
    await waitForReady(page);
    await page.waitForSelector('#resume-run', { timeout: 60_000 });
    await page.focus('#resume-run');
    await page.keyboard.press('Enter');
    // The same batch, its first answer kept: labeling goes on at the second item.
    expect(await batchOf(page, 3)).toEqual(rows3);
    expect(await answers(page)).toEqual(['9', '', '']);
    expect(await page.getAttribute('#label-batch .label-tile:nth-child(2)', 'aria-current')).toBe('true');
    await page.focus('#label-batch');
    await press(page, '8', '7', 'Enter');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');

    // The labels CSV: rows and values as typed (skip = -1), round by round.
    await page.focus('#export-labels');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toMatch(/-labels\.csv$/);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('dataset_row,label,round,strategy,seconds,agreed');
    const typed = [[rows1, [3, 4, -1]], [rows2, [0, 1, 2]], [rows3, [9, 8, 7]]] as const;
    // The drawn 7 follows round 2's answers.
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual(
      typed.flatMap(([rows, labels], r) => [...rows.map((row, p) => `${row},${labels[p]},${r + 1},entropy`), ...(r === 1 ? ['drawn,7,2,entropy'] : [])]));
    expect(csv).toContain('drawn,7,2,entropy,,');
    csv.splice(csv.indexOf('drawn,7,2,entropy,,'), 1);
    for (const line of csv.slice(1)) {
      const [, label, , , seconds, agreed] = line.split(',');
      expect(Number(seconds)).toBeGreaterThanOrEqual(0);
      expect(agreed).toBe(label === '-1' ? '' : agreed === 'true' ? 'true' : 'false');
    }

    // The run as results JSON: a human oracle's run, every label recorded as typed, and trained on.
    await page.focus('#export-json');
    const [json] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const results = JSON.parse(await readFile(await json.path(), 'utf8')) as ExperimentResults;
    expect(results.status).toBe('complete');
    expect(results.runs).toHaveLength(1);
    const run = results.runs[0]!;
    expect(run.oracle).toBe('human');
    expect(run.rounds.map((r) => r.round)).toEqual([0, 1, 2, 3]);
    expect(run.rounds.slice(1).map((r) => r.selected)).toEqual([rows1, rows2, rows3]);
    expect(run.rounds.slice(1).map((r) => r.labels)).toEqual(typed.map(([, labels]) => labels));
    // The CSV's agreement is the results'.
    expect(csv.slice(1).map((l) => l.split(',')[5])).toEqual(run.rounds.slice(1).flatMap((r) => r.agreed!.map((a) => (a === null ? '' : String(a)))));
    // The skipped row is not in the labeled set, the drawn 7 is (round 2, kept through the resume): 10 + 2 + (3 + 1) + 3.
    expect(run.rounds.map((r) => r.labeled)).toEqual([10, 12, 16, 19]);
    expect(run.rounds.map((r) => r.added?.map((e) => e.label))).toEqual([undefined, undefined, [7], undefined]);
    expect(atob(run.rounds[2]!.added![0]!.pixels)).toHaveLength(784);
    expect(await page.getAttribute('#label-stats', 'data-drawn')).toBe('1');
    // Stats and both curves.
    expect(await page.getAttribute('#label-stats', 'data-given')).toBe('8');
    expect(await page.getAttribute('#label-stats', 'data-skipped')).toBe('1');
    expect(await page.$$eval('#label-curve .curve-yours circle', (cs) => cs.length)).toBe(4);
    await page.waitForFunction(() => document.querySelectorAll('#label-curve .curve-simulated circle').length >= 1, undefined, { timeout: 60_000 });

    expect(errors).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });
});
