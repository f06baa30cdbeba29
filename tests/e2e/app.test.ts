/**
 * End to end: the app under the Vite dev server in Debian's Chromium (WebGL2 on SwiftShader).
 * Small shapes throughout: SwiftShader emulates the GPU on the CPU.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import { MAX_RESULTS_FILE_BYTES } from '../../src/engine/results-file.ts';
import type { ExperimentResults } from '../../src/engine/results.ts';
import {
  appQuery, collectErrors, cspViolations, devServerSession, policiesInForce, probeCspIsLive, recordCspViolations, ROOT, scriptPolicyProblems,
  SMALL_RUN, status, waitForReady, waitForStatus, chartPoints,
} from './helpers.ts';

const SMALL = SMALL_RUN;
const app = devServerSession();
const openApp = (query: string) => app.open(query);

async function exportJson(page: Page): Promise<ExperimentResults> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  return JSON.parse(await readFile(await download.path(), 'utf8')) as ExperimentResults;
}

// Generous per-test limits: other test runs share this 2-core machine with SwiftShader.
describe('ActiveLab app (vite dev server, Chromium WebGL)', { timeout: 240_000 }, () => {
  it('runs a two-strategy comparison on WebGL in a worker and shows that run\'s numbers', async () => {
    const { page, errors } = await openApp(appQuery(SMALL));

    // The engine is in a worker on WebGL; tfjs never ran on the page (it would have made its global engine).
    expect(await page.getAttribute('#backend-pill', 'data-backend')).toBe('webgl');
    expect(await page.textContent('#backend-pill')).toMatch(/^webgl/);
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('worker');
    expect(await page.evaluate(() => '_tfengine' in globalThis)).toBe(false);
    // The link filled the form.
    expect(await page.inputValue('#f-rounds')).toBe('3');
    expect(await page.inputValue('#f-poolSubset')).toBe('200');
    expect(await page.isChecked('#f-strategy-entropy')).toBe(true);
    expect(await page.isChecked('#f-strategy-margin')).toBe(false);

    await page.click('#run-btn');
    await page.waitForFunction(() => document.querySelector('#phases li.active[data-phase="train"]'), undefined, { timeout: 60_000 });

    // The page answers a click while the worker trains: the handler runs and the panel opens while
    // the run is still going. (How fast it answers is a figure for the benchmark, not a test.)
    await page.evaluate(() => {
      const w = window as unknown as { clickProbe?: { status: string } };
      document.querySelector('#h-diagnostics button')!.addEventListener('click', () => {
        w.clickProbe = { status: document.body.dataset.status ?? '' };
      }, { once: true });
    });
    await page.click('#h-diagnostics button');
    await page.waitForFunction(() => document.querySelector('#h-diagnostics button')?.getAttribute('aria-expanded') === 'true');
    const probe = await page.evaluate(() => (window as unknown as { clickProbe: { status: string } }).clickProbe);
    expect(probe.status).toBe('running');
    expect(await page.isVisible('#diag-tensors')).toBe(true);

    expect(await waitForStatus(page, /^(complete|failed|aborted)$/)).toBe('complete');
    const results = await exportJson(page);
    expect(results.status).toBe('complete');
    expect(results.environment.backend).toBe('webgl');
    expect(results.config).toMatchObject({ dataset: 'mnist', model: 'mlp', rounds: 3, poolSubset: 200, testSubset: 200, seed: 7, strategies: ['entropy', 'random'] });
    expect(results.runs.map((r) => [r.strategy, r.rounds.length])).toEqual([['entropy', 4], ['random', 4]]);

    // The summary table shows the exported numbers.
    for (const s of results.summary) {
      const cell = `#summary-table tr[data-strategy="${s.strategy}"] td[data-col="final-accuracy"]`;
      expect(Number(await page.getAttribute(cell, 'data-value'))).toBe(s.finalAccuracy!.mean);
      expect((await page.textContent(cell))?.trim()).toBe(`${(s.finalAccuracy!.mean * 100).toFixed(1)}%`);
      const alc = `#summary-table tr[data-strategy="${s.strategy}"] td[data-col="alc"]`;
      expect((await page.textContent(alc))?.trim()).toBe(s.alc!.toFixed(3));
    }

    // The curves: one point per evaluated round and strategy, at that round's labels and accuracy.
    const points = await chartPoints(page);
    expect(points.length).toBe(8);
    for (const run of results.runs) {
      for (const r of run.rounds) {
        const match = points.find((p) => p.includes(`strategy: ${run.strategy}`) && p.includes(`labeled examples: ${r.labeled};`));
        expect(match, `${run.strategy} at ${r.labeled} labels`).toBeDefined();
        const acc = Number(/accuracy \(mean\): ([\d.]+)/.exec(match!)?.[1]);
        expect(acc).toBeCloseTo(r.accuracy!, 4);
      }
    }

    // The gallery: the last round's queries of each strategy, drawn from pixels, with their scores.
    for (const run of results.runs) {
      const last = run.rounds[run.rounds.length - 1]!;
      const col = `article.strategy-col[data-strategy="${run.strategy}"]`;
      expect(await page.$$eval(`${col} figure.query canvas.digit`, (c) => c.length)).toBe(last.selected.length);
      expect((await page.textContent(`${col} .round-line`))?.replace(/\s+/g, ' ')).toContain(`Round 3 · ${last.labeled} labels · accuracy ${(last.accuracy! * 100).toFixed(1)}%`);
      const shown = await page.$$eval(`${col} figure.query .score`, (els) => els.map((e) => Number(e.textContent)));
      expect(shown.length).toBe(last.selectedScores!.length);
      shown.forEach((v, i) => expect(v).toBeCloseTo(last.selectedScores![i]!, 2));
      const inked = await page.$eval(`${col} figure.query canvas.digit`, (c) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
        let dark = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i]! < 128) dark++;
        return dark;
      });
      expect(inked).toBeGreaterThan(20);
      // Histogram of the pool's scores and the class distribution of the labeled set.
      expect(await page.$$eval(`${col} svg.histogram rect`, (r) => r.length)).toBeGreaterThan(0);
      const bars = await page.$eval(`${col} svg.class-bars`, (svg) => svg.getAttribute('aria-label'));
      expect(bars).toBe(`Labeled examples per class: ${last.classCounts.map((c, i) => `${i} ${c}`).join(', ')}`);
    }
    expect(await page.$$eval('table.confusion', (t) => t.length)).toBe(2);

    // The other exports: CSV rows, and the chart as SVG and PNG.
    const download = async (button: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      return { name: d.suggestedFilename(), bytes: await readFile(await d.path()) };
    };
    const csv = await download('#export-csv');
    expect(csv.name).toMatch(/^activelab-mnist-mlp-seed7-.*\.csv$/);
    expect(csv.bytes.toString('utf8').trim().split('\n')).toHaveLength(1 + 8);
    const svg = await download('#export-svg');
    expect(svg.bytes.toString('utf8')).toMatch(/^<svg[^>]*>[\s\S]*test accuracy[\s\S]*<\/svg>$/);
    const png = await download('#export-png');
    expect([...png.bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);

    // No tensor left behind by the run.
    const tensors = await page.$eval('#diag-tensors', (e) => ({ before: (e as HTMLElement).dataset.before, after: (e as HTMLElement).dataset.after }));
    expect(tensors.before).not.toBe('');
    expect(tensors.after).toBe(tensors.before);

    // The address bar now holds the full configuration.
    const url = new URL(page.url());
    expect(url.searchParams.get('strategies')).toBe('entropy,random');
    expect(url.searchParams.get('testSubset')).toBe('200');

    await mkdir(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results/app.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('pauses and resumes; stop in the middle of a round keeps every completed round on screen and leaks no tensors', async () => {
    // On wasm: what Pause, Resume and Stop do does not depend on the backend, and wasm rounds are
    // far cheaper here than SwiftShader's (the WebGL run is the case above).
    const { page, errors } = await openApp(appQuery({ ...SMALL, strategies: 'margin,random', rounds: 30, backend: 'wasm' }));
    const done = async () => Number(await page.getAttribute('#progress', 'data-done'));
    await page.click('#run-btn');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#progress')?.dataset.done) >= 1, undefined, { timeout: 90_000, polling: 100 });

    // Pause takes effect at the next phase boundary; then nothing moves until Resume.
    await page.click('#pause-btn');
    expect(await waitForStatus(page, /^paused$/, 60_000)).toBe('paused');
    expect(await page.textContent('#pause-btn')).toBe('Resume');
    const atPause = await done();
    await page.waitForTimeout(2_000);
    expect(await done()).toBe(atPause);
    expect(await page.textContent('#timing')).toContain('ETA paused');
    await page.click('#pause-btn');
    expect(await waitForStatus(page, /^running$/, 10_000)).toBe('running');

    // Let another round complete, then stop while the next one is training.
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#progress')?.dataset.done) > n, atPause, { timeout: 90_000, polling: 100 });
    await page.waitForFunction(() => document.querySelector('#phases li.active[data-phase="train"]'), undefined, { timeout: 30_000, polling: 20 });
    await page.click('#stop-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/)).toBe('aborted');
    expect(await page.textContent('#status-text')).toMatch(/^Stopped: the \d+ completed rounds? (is|are) kept\.$/);

    const results = await exportJson(page);
    expect(results.status).toBe('aborted');
    const completed = results.runs.reduce((a, r) => a + r.rounds.length, 0);
    expect(completed).toBeGreaterThanOrEqual(atPause + 1);
    expect(completed).toBeLessThan(62);
    // Rounds are numbered without gaps: no half-finished round was recorded.
    for (const run of results.runs) expect(run.rounds.map((r) => r.round)).toEqual(run.rounds.map((_, i) => i));
    expect(await done()).toBe(completed);
    expect((await chartPoints(page)).length).toBe(completed);
    for (const s of results.summary) {
      expect(Number(await page.getAttribute(`#summary-table tr[data-strategy="${s.strategy}"] td[data-col="final-accuracy"]`, 'data-value'))).toBe(s.finalAccuracy!.mean);
    }

    // The worker reported tf.memory().numTensors before the run and after the stop: equal.
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#diag-tensors')?.dataset.after !== '', undefined, { timeout: 10_000 });
    const tensors = await page.$eval('#diag-tensors', (e) => ({ before: (e as HTMLElement).dataset.before, after: (e as HTMLElement).dataset.after }));
    expect(Number(tensors.before)).toBeGreaterThanOrEqual(0);
    expect(tensors.after).toBe(tensors.before);
    expect(await page.isEnabled('#run-btn')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows link values that resolveConfig refuses beside their fields, as text, never as markup', async () => {
    const evil = '<img src=x onerror="window.__xss=1">';
    // backend=wasm: on the default (auto) the page would first time each backend (auto-backend.test.ts).
    const { page, errors } = await openApp(`?dataset=${encodeURIComponent(evil)}&initial=abc&rounds=-1&strategies=entropy,${encodeURIComponent('<b>bold</b>')}&color=red&backend=wasm`);
    expect(await page.textContent('#err-dataset')).toContain(`config.dataset = '${evil}' is not allowed`);
    expect(await page.textContent('#err-strategies')).toContain("'<b>bold</b>'");
    expect(await page.textContent('#err-rounds')).toContain('config.rounds = -1 is not allowed');
    expect(await page.textContent('#err-initial')).toContain("'abc' is not a number");
    expect(await page.textContent('#link-notes')).toContain("unknown setting 'color'");
    expect(await page.evaluate(() => document.querySelectorAll('img, b').length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // Defaults took the refused values' places, so the form is runnable.
    expect(await page.inputValue('#f-dataset')).toBe('mnist');
    expect(await page.isEnabled('#run-btn')).toBe(true);

    // Editing: a balanced initial set smaller than the class count is refused by resolveConfig.
    await page.fill('#f-initial', '5');
    await page.waitForFunction(() => document.querySelector('#err-initial')?.textContent?.includes('at least the number of classes'), undefined, { timeout: 10_000 });
    expect(await page.getAttribute('#f-initial', 'aria-invalid')).toBe('true');
    expect(await page.isDisabled('#run-btn')).toBe(true);
    await page.fill('#f-initial', '20');
    await page.waitForFunction(() => document.querySelector('#err-initial')?.textContent === '', undefined, { timeout: 10_000 });
    expect(await page.isEnabled('#run-btn')).toBe(true);
    // The field that cannot take the data says so: cnn on 2-D points.
    await page.selectOption('#f-dataset', 'moons');
    await page.selectOption('#f-model', 'cnn');
    await page.waitForFunction(() => document.querySelector('#err-model')?.textContent?.includes('a model for points data'), undefined, { timeout: 10_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('falls back to computing on the page (thread=page) and still runs on WebGL', async () => {
    const { page, errors } = await openApp(appQuery({ dataset: 'blobs', model: 'logreg', strategies: 'entropy,random', initial: 6, balanced: true, query: 3, rounds: 1, epochs: 3, batchSize: 16, poolSubset: 'all', testSubset: 'all', seed: 2, backend: 'webgl' }) + '&thread=page');
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('page');
    expect(await page.getAttribute('#backend-pill', 'data-backend')).toBe('webgl');
    expect(await page.evaluate(() => '_tfengine' in globalThis)).toBe(true);
    expect(await page.textContent('#messages')).toContain('Computing on the page, not in a worker');
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/)).toBe('complete');
    expect(await page.$$eval('canvas.boundary', (c) => c.length)).toBe(2);
    // The link keeps the fallback choice.
    expect(new URL(page.url()).searchParams.get('thread')).toBe('page');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs under a Content-Security-Policy without inline script or eval: no violation on WebGL or wasm, and the policy is live; one decision-boundary map per strategy for a 2-D dataset', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);
    await recordCspViolations(page);
    const response = await page.goto(`${app.url}${appQuery({ dataset: 'moons', model: 'logreg', strategies: 'margin,random', initial: 4, balanced: true, query: 4, rounds: 1, epochs: 2, batchSize: 16, poolSubset: 'all', testSubset: 'all', seed: 4, backend: 'webgl' })}`);
    // The policy arrives twice (header and meta tag), and neither lets inline script or eval in.
    const { header, meta } = await policiesInForce(page, response);
    expect(header).toMatch(/^default-src 'self'; script-src 'self' 'wasm-unsafe-eval'/);
    expect(meta).toHaveLength(1);
    expect(scriptPolicyProblems(header!)).toEqual([]);
    expect(scriptPolicyProblems(meta[0]!)).toEqual([]);
    expect(await page.evaluate(() => document.head.firstElementChild?.getAttribute('http-equiv'))).toBe('Content-Security-Policy');

    await waitForReady(page);
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('worker');
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/)).toBe('complete');
    // The learning-curve chart (Vega, through vega-interpreter) is drawn: 2 strategies x 2 rounds.
    await page.waitForFunction(() => document.querySelectorAll('#curves svg').length === 1, undefined, { timeout: 30_000 });
    expect((await chartPoints(page)).length).toBe(4);
    // A 2-D dataset: one decision-boundary map per strategy, at the last round.
    expect(await page.isVisible('#panel-boundary')).toBe(true);
    const maps = await page.$$eval('canvas.boundary', (cs) => cs.map((c) => [c.closest('figure')?.getAttribute('data-strategy'), c.getAttribute('aria-label')]));
    expect(maps.map((m) => m[0])).toEqual(['margin', 'random']);
    for (const [, label] of maps) expect(label).toMatch(/at round 1: 8 labeled points, 4 queried this round/);
    expect(await cspViolations(page)).toEqual([]);
    expect(errors).toEqual([]);

    // The wasm backend, threaded (the page is cross-origin isolated): its pthread workers start
    // from blob: URLs, and it compiles WebAssembly ('wasm-unsafe-eval').
    await page.selectOption('#f-backend', 'wasm');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#backend-pill')?.dataset.backend === 'wasm', undefined, { timeout: 60_000 });
    expect(await page.textContent('#backend-pill')).toBe('wasm · SIMD on, threads on');
    expect(await cspViolations(page)).toEqual([]);
    expect(errors).toEqual([]);

    // Not a test that cannot fail: inline script and eval are blocked and reported, on the page and in the worker.
    await probeCspIsLive(page, errors);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens a results file exported by ActiveLab like a finished run; a corrupt or oversized file shows why, as text, and the page keeps working', async () => {
    // A real export: a tiny MNIST comparison, downloaded as JSON (on wasm: what is tested here is
    // the file, not the backend).
    const first = await openApp(appQuery({ dataset: 'mnist', model: 'logreg', strategies: 'margin,random', initial: 10, balanced: true, query: 10, rounds: 1, epochs: 2, batchSize: 16, poolSubset: 100, testSubset: 100, seed: 5, backend: 'wasm' }));
    await first.page.click('#run-btn');
    expect(await waitForStatus(first.page, /^(complete|failed|aborted)$/)).toBe('complete');
    const results = await exportJson(first.page);
    expect(first.errors).toEqual([]);
    await first.page.close();

    // A fresh page, with the default configuration in its form but wasm (the default, auto, would
    // first time each backend: auto-backend.test.ts).
    const { page, errors } = await openApp('?backend=wasm');
    expect(await page.textContent('#open-help')).toContain(`up to ${MAX_RESULTS_FILE_BYTES / (1024 * 1024)} MB`);
    const open = async (name: string, buffer: Buffer, state: 'ok' | 'error') => {
      await page.setInputFiles('#open-results', { name, mimeType: 'application/json', buffer });
      await page.waitForFunction((want) => document.querySelector<HTMLElement>('#open-status')?.dataset.state === want, state, { timeout: 60_000 });
      return (await page.textContent('#open-status'))!;
    };

    // Corrupt files are refused with the path, the value and what is allowed; markup stays text.
    const bad = JSON.parse(JSON.stringify(results)) as ExperimentResults;
    bad.runs[0]!.rounds[1]!.selected[0] = 99_999_999;
    expect(await open('bad.json', Buffer.from(JSON.stringify(bad)), 'error')).toBe('Could not open bad.json: results.runs[0].rounds[1].selected[0] = 99999999 is not allowed: an integer from 0 to 59999');
    expect(await page.getAttribute('#open-status', 'role')).toBe('alert');
    const evilName = '<img src=x onerror="window.__xss=1">.json';
    expect(await open(evilName, Buffer.from('<script>window.__xss = 2</script>'), 'error')).toMatch(/^Could not open <img src=x onerror="window.__xss=1">\.json: file = 'text that is not JSON' is not allowed: a JSON file exported by ActiveLab/);
    const wrongVersion = { ...results, version: 2 };
    expect(await open('v2.json', Buffer.from(JSON.stringify(wrongVersion)), 'error')).toBe('Could not open v2.json: results.version = 2 is not allowed: 1 (the only results format so far)');
    // Over the limit: refused from its size, before it is read. Given as a file on disk, as a
    // person picks one (a buffer would cross to the browser as 27 MB of base64).
    const hugeDir = await mkdtemp(join(tmpdir(), 'activelab-huge-'));
    const huge = join(hugeDir, 'huge.json');
    await writeFile(huge, Buffer.alloc(MAX_RESULTS_FILE_BYTES + 1, 0x20));
    await page.setInputFiles('#open-results', huge);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#open-status')?.dataset.state === 'error' && /huge\.json/.test(document.querySelector('#open-status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    await rm(hugeDir, { recursive: true, force: true });
    expect(await page.textContent('#open-status')).toBe(
      `Could not open huge.json: file = '${MAX_RESULTS_FILE_BYTES + 1} bytes' is not allowed: at most ${MAX_RESULTS_FILE_BYTES} bytes (20 MB): a results file exported by ActiveLab`);
    expect(await page.evaluate(() => document.querySelectorAll('img, #main script').length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // The page keeps working: nothing was shown, and the form still runs.
    expect(await status(page)).toBe('idle');
    expect(await page.isEnabled('#run-btn')).toBe(true);
    expect(await page.$$eval('#summary-table', (t) => t.length)).toBe(0);

    // The good file: the same views as a finished run.
    expect(await open('activelab-run.json', Buffer.from(JSON.stringify(results, null, 1)), 'ok')).toBe('Opened activelab-run.json: mnist · logreg, 2 runs (complete).');
    expect(await page.evaluate(() => document.body.dataset.source)).toBe('file');
    expect(await status(page)).toBe('complete');
    expect(await page.textContent('#status-text')).toBe(`Opened activelab-run.json: a finished run of 4 rounds, started ${results.startedAt}.`);
    for (const s of results.summary) {
      expect(Number(await page.getAttribute(`#summary-table tr[data-strategy="${s.strategy}"] td[data-col="final-accuracy"]`, 'data-value'))).toBe(s.finalAccuracy!.mean);
    }
    await page.waitForFunction(() => document.querySelectorAll('#curves svg').length === 1, undefined, { timeout: 30_000 });
    const points = await chartPoints(page);
    expect(points.length).toBe(4);
    for (const run of results.runs) {
      for (const r of run.rounds) {
        const match = points.find((p) => p.includes(`strategy: ${run.strategy}`) && p.includes(`labeled examples: ${r.labeled};`));
        expect(Number(/accuracy \(mean\): ([\d.]+)/.exec(match!)?.[1])).toBeCloseTo(r.accuracy!, 4);
      }
      // The last round's queried images, drawn from the dataset's pixels, with their scores.
      const last = run.rounds[run.rounds.length - 1]!;
      const col = `article.strategy-col[data-strategy="${run.strategy}"]`;
      expect(await page.$$eval(`${col} figure.query canvas.digit`, (c) => c.length)).toBe(last.selected.length);
      const shown = await page.$$eval(`${col} figure.query .score`, (els) => els.map((e) => Number(e.textContent)));
      shown.forEach((v, i) => expect(v).toBeCloseTo(last.selectedScores![i]!, 2));
    }
    // Its configuration is in the form, ready to run again; the exports give the file back.
    expect(await page.inputValue('#f-model')).toBe('logreg');
    expect(await page.inputValue('#f-poolSubset')).toBe('100');
    expect(await exportJson(page)).toEqual(results);

    // A bad file now leaves the opened results on screen.
    expect(await open('bad.json', Buffer.from('{"version": 1}'), 'error')).toBe('Could not open bad.json: results.config is missing: an object');
    expect(await page.$$eval('#summary-table tbody tr', (r) => r.length)).toBe(2);
    expect(await cspViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
