/**
 * End to end on the production build: `vite build` (made once per test run,
 * with the ~110 MB of data the datasets plugin emits), served by `vite preview` (buildSession); the page loads its
 * data from the static site and runs tiny comparisons to completion on WebGL and on threaded wasm.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { contentSecurityPolicy } from '../../src/security/csp.ts';
import { appQuery, buildSession, cspViolations, policiesInForce, probeCspIsLive, scriptPolicyProblems, waitForStatus } from './helpers.ts';

const site = buildSession();
const wasmPkg = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));

describe('the static build under vite preview', { timeout: 240_000 }, () => {
  it('emits the page, the worker, the unbundled wasm glue and the data files', async () => {
    const outDir = site.outDir;
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/[^"]+\.js">/);
    // The policy travels with the build as the head's first element; the page has no inline script.
    expect(html.replace(/&#39;/g, "'").replace(/\s+/g, ' ')).toContain(`<head> <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy('build')}">`);
    expect(scriptPolicyProblems(contentSecurityPolicy('build'))).toEqual([]);
    expect(html.match(/<script\b[^>]*>/g)!.every((tag) => /\bsrc=/.test(tag))).toBe(true);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect((await stat(join(outDir, 'data/mnist/train-images-idx3-ubyte'))).size).toBe(47_040_016);
    const res = await fetch(`${site.url}data/mnist/t10k-labels-idx1-ubyte`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(10_008);

    // The threaded wasm backend's glue, byte for byte as tfjs ships it (wasm-threads-plugin.ts), and
    // no bundle hands the pthread workers a stringified (minified) copy of it any more.
    const assets = await readdir(join(outDir, 'assets'));
    const glue = assets.filter((f) => /^tfjs-backend-wasm-threaded-simd-[\w-]+\.js$/.test(f));
    expect(glue).toHaveLength(1);
    expect(await readFile(join(outDir, 'assets', glue[0]!), 'utf8')).toBe(await readFile(join(wasmPkg, 'wasm-out/tfjs-backend-wasm-threaded-simd.js'), 'utf8'));
    const bundles = assets.filter((f) => f.endsWith('.js') && !glue.includes(f));
    const withGlueUrl: string[] = [];
    for (const f of bundles) {
      const code = await readFile(join(outDir, 'assets', f), 'utf8');
      expect(code, f).not.toContain('var WasmBackendModuleThreadedSimd = `+');
      if (code.includes(`/assets/${glue[0]}`)) withGlueUrl.push(f);
    }
    // The engine worker, and the page-thread fallback chunk (the host, lazily loaded).
    expect(withGlueUrl).toHaveLength(2);
    expect(withGlueUrl.filter((f) => f.startsWith('worker-'))).toHaveLength(1);
  });

  it('runs a tiny comparison on WebGL to completion', async () => {
    const { page, errors, response } = await site.open(appQuery({
      dataset: 'mnist', model: 'logreg', strategies: 'margin,random', initial: 10, balanced: true, query: 10, rounds: 1,
      epochs: 2, batchSize: 16, poolSubset: 100, testSubset: 100, seed: 5, backend: 'webgl',
    }), { viewport: { width: 1280, height: 900 } });
    // The static site's meta policy, and vite preview's header (which also covers the worker).
    const { header, meta } = await policiesInForce(page, response);
    expect(meta).toEqual([contentSecurityPolicy('build')]);
    expect(header).toBe(contentSecurityPolicy('build', { header: true }));
    expect(scriptPolicyProblems(header!)).toEqual([]);
    expect(await page.getAttribute('#backend-pill', 'data-backend')).toBe('webgl');
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('worker');
    expect(await page.evaluate(() => '_tfengine' in globalThis)).toBe(false);

    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/)).toBe('complete');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const results = JSON.parse(await readFile(await download.path(), 'utf8')) as ExperimentResults;
    expect(results.environment.backend).toBe('webgl');
    expect(results.runs.map((r) => [r.strategy, r.rounds.length])).toEqual([['margin', 2], ['random', 2]]);
    for (const s of results.summary) {
      expect(Number(await page.getAttribute(`#summary-table tr[data-strategy="${s.strategy}"] td[data-col="final-accuracy"]`, 'data-value'))).toBe(s.finalAccuracy!.mean);
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

  it('runs a short comparison on threaded wasm to completion (the pthread workers start from the glue asset)', async () => {
    const { page, errors } = await site.open(appQuery({
      dataset: 'mnist', model: 'logreg', strategies: 'entropy,random', initial: 10, balanced: true, query: 10, rounds: 2,
      epochs: 1, batchSize: 16, poolSubset: 100, testSubset: 100, seed: 3, backend: 'wasm',
    }));
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.getAttribute('#backend-pill', 'data-backend')).toBe('wasm');
    expect(await page.textContent('#backend-pill')).toBe('wasm · SIMD on, threads on');
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/)).toBe('complete');
    const results = (await page.evaluate(() => window.activelab!.results())) as ExperimentResults;
    expect(results.environment.backend).toBe('wasm');
    expect(results.runs.map((r) => [r.strategy, r.status, r.rounds.map((x) => x.round)])).toEqual([['entropy', 'complete', [0, 1, 2]], ['random', 'complete', [0, 1, 2]]]);
    // The threads ran: the backend's pthread pool (blob: workers) beside the one engine worker.
    const workers = page.workers().map((w) => w.url());
    expect(workers.filter((u) => !u.startsWith('blob:'))).toHaveLength(1);
    expect(workers.filter((u) => u.startsWith('blob:')).length).toBeGreaterThan(0);
    expect(await page.textContent('#messages')).not.toMatch(/crashed/);
    expect(await cspViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
