/**
 * End to end on the production build: `vite build` into a temporary outDir (with the ~110 MB of
 * data the datasets plugin emits), served by `vite preview`; the page loads its data from the
 * static site and runs a tiny comparison on WebGL to completion.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { contentSecurityPolicy } from '../../src/security/csp.ts';
import {
  appQuery, collectErrors, CONFIG_FILE, cspViolations, launchBrowser, policiesInForce, probeCspIsLive, recordCspViolations, ROOT,
  scriptPolicyProblems, startPreviewServer, waitForReady,
} from './helpers.ts';

let outDir: string;
let server: { url: string; close: () => Promise<void> } | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'activelab-build-'));
  await build({ root: ROOT, configFile: CONFIG_FILE, logLevel: 'warn', build: { outDir, emptyOutDir: true, reportCompressedSize: false } });
  server = await startPreviewServer(outDir);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('the static build under vite preview', { timeout: 240_000 }, () => {
  it('emits the page, the worker and the data files', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/[^"]+\.js">/);
    // The policy travels with the build as the head's first element; the page has no inline script.
    expect(html.replace(/&#39;/g, "'").replace(/\s+/g, ' ')).toContain(`<head> <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy('build')}">`);
    expect(scriptPolicyProblems(contentSecurityPolicy('build'))).toEqual([]);
    expect(html.match(/<script\b[^>]*>/g)!.every((tag) => /\bsrc=/.test(tag))).toBe(true);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect((await stat(join(outDir, 'data/mnist/train-images-idx3-ubyte'))).size).toBe(47_040_016);
    const res = await fetch(`${server!.url}data/mnist/t10k-labels-idx1-ubyte`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(10_008);
  });

  it('runs a tiny comparison on WebGL to completion', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors = collectErrors(page);
    await recordCspViolations(page);
    const response = await page.goto(`${server!.url}${appQuery({
      dataset: 'mnist', model: 'logreg', strategies: 'margin,random', initial: 10, balanced: true, query: 10, rounds: 1,
      epochs: 2, batchSize: 16, poolSubset: 100, testSubset: 100, seed: 5, backend: 'webgl',
    })}`);
    // The static site's meta policy, and vite preview's header (which also covers the worker).
    const { header, meta } = await policiesInForce(page, response);
    expect(meta).toEqual([contentSecurityPolicy('build')]);
    expect(header).toBe(contentSecurityPolicy('build', { header: true }));
    expect(scriptPolicyProblems(header!)).toEqual([]);
    await waitForReady(page);
    expect(await page.getAttribute('#backend-pill', 'data-backend')).toBe('webgl');
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('worker');
    expect(await page.evaluate(() => '_tfengine' in globalThis)).toBe(false);

    await page.click('#run-btn');
    await page.waitForFunction(() => ['complete', 'failed', 'aborted'].includes(document.body.dataset.status ?? ''), undefined, { timeout: 90_000, polling: 100 });
    expect(await page.evaluate(() => document.body.dataset.status)).toBe('complete');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const results = JSON.parse(await readFile(await download.path(), 'utf8')) as ExperimentResults;
    expect(results.environment.backend).toBe('webgl');
    expect(results.runs.map((r) => [r.strategy, r.rounds.length])).toEqual([['margin', 2], ['random', 2]]);
    for (const s of results.summary) {
      expect(Number(await page.getAttribute(`#summary-table tr[data-strategy="${s.strategy}"] td[data-col="final-accuracy"]`, 'data-value'))).toBe(s.finalAccuracy.mean);
    }
    expect(await page.$$eval('#curves svg', (s) => s.length)).toBe(1);
    expect(await page.$$eval('canvas.digit', (c) => c.length)).toBe(20);
    // The PNG export renders through Vega's canvas renderer, under the same policy.
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
    expect([...(await readFile(await png.path())).subarray(0, 4)]).toEqual([137, 80, 78, 71]);
    expect(await cspViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await probeCspIsLive(page, errors);
    expect(errors).toEqual([]);
    await page.close();
  });
});
