/**
 * End to end: the Model panel (tfjs-vis's table, line chart and bar chart, their vega-embed
 * resolved to vega-embed-csp.ts) on a tiny MNIST run on wasm, in the dev server (dependency
 * pre-bundling) and in the built site: the layers table, one line-chart point per epoch, the
 * test accuracy per class at the chosen round (as the confusion matrices count it), all under the
 * page's CSP (no violation, no console error) and without the page ever loading tfjs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import { appQuery, buildSession, cspViolations, devServerSession, waitForStatus } from './helpers.ts';

const RUN = {
  dataset: 'mnist', model: 'mlp', strategies: 'entropy,random', initial: 10, balanced: true, query: 10, rounds: 1,
  repeats: 1, epochs: 2, batchSize: 16, poolSubset: 100, testSubset: 100, seed: 5, backend: 'wasm',
};

/** Per class, right / rows, read from the page's confusion table of `strategy` (cell titles "true a, predicted b: v of n"). */
async function accuracyFromConfusionTable(page: Page, strategy: string): Promise<Record<string, number>> {
  const titles = await page.$$eval(`#confusion figure[data-strategy="${strategy}"] td`, (tds) => tds.map((td) => td.getAttribute('title') ?? ''));
  const out: Record<string, number> = {};
  for (const t of titles) {
    const m = /^true (.+), predicted (.+): (\d+) of (\d+)$/.exec(t);
    if (!m) throw new Error(`unexpected cell title: ${t}`);
    if (m[1] === m[2] && Number(m[4]) > 0) out[m[1]!] = Number(m[3]) / Number(m[4]);
  }
  return out;
}

/** The bars of `strategy`'s chart as Vega describes them (aria-label "index: 3; value: 0.75"). */
async function bars(page: Page, strategy: string): Promise<Record<string, number>> {
  const labels = await page.$$eval(`#model-classes figure[data-strategy="${strategy}"] .mark-rect path`, (ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
  const out: Record<string, number> = {};
  for (const l of labels) {
    const m = /index: (.+); value: ([\d.e-]+)/.exec(l);
    if (!m) throw new Error(`unexpected bar label: ${l}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function expectSameAccuracies(actual: Record<string, number>, expected: Record<string, number>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expect(actual[k], `class ${k}`).toBeCloseTo(v, 3);
}

async function checkModelPanel(page: Page, errors: string[]): Promise<void> {
  expect(await page.isVisible('#panel-model')).toBe(true);
  expect(await page.textContent('#model-summary')).toMatch(/appear here when it starts/);
  // The first training charts drawn (kept when they appear): later epochs and rounds update them in place.
  await page.evaluate(() => {
    const w = window as unknown as { firstCharts?: Element[] };
    new MutationObserver((_, obs) => {
      const charts = ['#model-loss svg', '#model-acc svg'].map((q) => document.querySelector(q));
      if (charts.every(Boolean)) {
        w.firstCharts = charts as Element[];
        obs.disconnect();
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  await page.click('#run-btn');
  expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 180_000)).toBe('complete');

  // The layers, from the worker's tfjs model, through render.table.
  await page.waitForSelector('#model-summary table.tf-table tbody tr');
  const rows = await page.$$eval('#model-summary table.tf-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  expect(rows).toEqual([
    ['flatten', 'Reshape', '[null, 784]', '0', 'no'],
    ['embedding', 'Dense', '[null, 128]', '100,480', 'yes'],
    ['dropout', 'Dropout', '[null, 128]', '0', 'no'],
    ['logits', 'Dense', '[null, 10]', '1,290', 'yes'],
    ['probs', 'Activation', '[null, 10]', '0', 'no'],
  ]);
  expect(await page.$$eval('#model-summary table.tf-table thead th', (ths) => ths.map((th) => th.textContent))).toEqual(['Layer', 'Type', 'Output shape', 'Parameters', 'Trainable']);
  expect(await page.textContent('#model-summary .model-total')).toBe('mlp: 101,770 parameters (101,770 trainable), 5 layers');

  // The last round trained, one point per epoch, in both line charts. The panel draws after the
  // events (at most once per epoch), so an earlier round's figure may still be up when the run ends.
  await page.waitForSelector('#model-training figure[data-round="1"][data-epochs="2"]', { timeout: 30_000 });
  const fig = await page.$eval('#model-training figure', (f) => ({ ...(f as HTMLElement).dataset, caption: f.querySelector('figcaption')?.textContent }));
  expect(fig).toMatchObject({ round: '1', epochs: '2' });
  expect(fig.caption).toMatch(/^(entropy|random), repeat 1, round 1: epoch 2 of 2, training loss \d+\.\d{3}, accuracy \d+\.\d%$/);
  for (const id of ['#model-loss', '#model-acc']) {
    const d = await page.getAttribute(`${id} .mark-line path`, 'd');
    expect(d, id).toMatch(/^M[^ML]+L[^ML]+$/); // two points: a move and one line segment
  }
  // Drawn once, at the first epoch of round 0, and updated in place since (linechartRows is the
  // data tfjs-vis's linechart draws: were it not, the lines above would not have their two points).
  expect(await page.evaluate(() => {
    const first = (window as unknown as { firstCharts?: Element[] }).firstCharts ?? [];
    return first.length === 2 && first[0] === document.querySelector('#model-loss svg') && first[1] === document.querySelector('#model-acc svg');
  })).toBe(true);

  // The accuracy per class at the chosen (last) round, as the confusion matrices count it.
  // Both strategies' figures at round 1, with their bars (the panel draws them one at a time).
  await page.waitForFunction(() => [...document.querySelectorAll('#model-classes figure[data-round="1"]')]
    .filter((f) => f.querySelectorAll('.mark-rect path').length >= 2).length === 2, undefined, { timeout: 30_000 });
  for (const s of ['entropy', 'random']) {
    expect(await page.getAttribute(`#model-classes figure[data-strategy="${s}"]`, 'data-round')).toBe('1');
    expectSameAccuracies(await bars(page, s), await accuracyFromConfusionTable(page, s));
  }
  // data-round is set once a chart has drawn. Back to round 0: the same charts update in place (tfjs-vis's barchart reuses the view our vega-embed returned).
  const chart = await page.$('#model-classes figure[data-strategy="random"] .vis-chart svg');
  await page.fill('#round-range', '0');
  await page.dispatchEvent('#round-range', 'input');
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('#model-classes figure')].every((f) => f.dataset.round === '0'));
  await page.waitForFunction(() => document.querySelector('#confusion figure[data-strategy="random"] .detail')?.textContent?.startsWith('round 0'));
  for (const s of ['entropy', 'random']) expectSameAccuracies(await bars(page, s), await accuracyFromConfusionTable(page, s));
  expect(await chart!.evaluate((svg) => svg.isConnected)).toBe(true);

  expect(await page.evaluate(() => '_tfengine' in globalThis)).toBe(false); // the page never loaded tfjs
  expect(await cspViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
}

describe('the Model panel', { timeout: 300_000 }, () => {
  // The dev server pre-bundles tfjs-vis's CommonJS modules; the build bundles them: the vega-embed
  // alias must hold in both.
  for (const [where, session] of [['in the dev server', devServerSession], ['in the built site', buildSession]] as const) {
    describe(where, () => {
      const app = session();
      it('shows the layers, the epochs of the round being trained and the accuracy per class, under the CSP', async () => {
        const { page, errors } = await app.open(appQuery(RUN));
        await checkModelPanel(page, errors);
        await page.close();
      });
      if (session === buildSession) {
        // tfjs-vis reaches vega 5 (and vega-lite 4) only through vega-embed 6.17, so if the alias
        // failed, vega 5 would be bundled, and its module carries its version as a literal.
        it("bundles none of tfjs-vis's own vega 5 (nor, so, the vega-embed 6 and vega-lite 4 that come with it)", async () => {
          const nested = createRequire(createRequire(import.meta.url).resolve('@tensorflow/tfjs-vis'));
          const pinned = ['vega', 'vega-lite', 'vega-embed'].map((name) => (nested(`${name}/package.json`) as { version: string }).version);
          expect(pinned).toEqual(['5.20.0', '4.13.1', '6.17.0']); // installed beside tfjs-vis 1.5.1, as it pins them
          const vega5 = await readFile(nested.resolve('vega/build/vega.module.js'), 'utf8');
          const version = /["'`]5\.20\.0["'`]/; // a minifier may write it with any quote
          expect(vega5).toMatch(version);
          const assets = (await readdir(join(app.outDir, 'assets'))).filter((f) => f.endsWith('.js'));
          expect(assets.length).toBeGreaterThan(5);
          for (const f of assets) expect(await readFile(join(app.outDir, 'assets', f), 'utf8'), f).not.toMatch(version);
        });
      }
    });
  }
});
