/**
 * Captures docs/screenshot.png: a finished comparison in the app (dev server, Chromium WebGL);
 * with --labeling, docs/labeling.png: a round of "Label it yourself" on MNIST, half answered.
 *
 *   npm run screenshot                      # the default comparison below
 *   npm run screenshot -- '?dataset=...'    # any link query
 *   npm run screenshot -- --labeling        # a labeling round
 *
 * Not a test (slow on a machine without a GPU); keeps the PNG under 300 kB.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { loadDataset } from '../../datasets/index.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import { launchBrowser, ROOT, startDevServer, waitForReady } from './helpers.ts';

const DEFAULT_QUERY =
  '?dataset=mnist&model=mlp&strategies=entropy,margin,bald,random&initial=20&balanced=true&query=10&rounds=10&repeats=2' +
  '&epochs=20&batchSize=32&poolSubset=1000&testSubset=1000&mcSamples=10&seed=1&backend=webgl&target=0.7';
const MAX_BYTES = 300_000;

const LABELING_QUERY =
  '?dataset=mnist&model=mlp&strategies=entropy&initial=20&balanced=true&query=8&rounds=10&repeats=1' +
  '&epochs=10&batchSize=32&poolSubset=500&testSubset=500&seed=1&backend=wasm';

const labeling = process.argv[2] === '--labeling';
const query = labeling ? LABELING_QUERY : process.argv[2] ?? DEFAULT_QUERY;
const out = join(ROOT, labeling ? 'docs/labeling.png' : 'docs/screenshot.png');
const server = await startDevServer();
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1600 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
  await page.goto(`${server.url}${query}`);
  await waitForReady(page);
  if (labeling) {
    await captureLabeling(page);
    process.exit(0);
  }
  const t0 = Date.now();
  await page.click('#run-btn');
  let last = '';
  for (;;) {
    const st = await page.evaluate(() => `${document.body.dataset.status} ${document.querySelector('#round-counter')?.textContent ?? ''}`);
    if (st !== last) console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s  ${st}`);
    last = st;
    if (/^(complete|failed|aborted)/.test(st)) break;
    await page.waitForTimeout(2_000);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  // The first screen and a half: curves, summary and the start of the queries.
  for (const height of [1600, 1400, 1200, 1000]) {
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1440, height } });
    const size = (await stat(out)).size;
    console.log(`${out}: ${height}px tall, ${size} bytes`);
    if (size <= MAX_BYTES) break;
  }
} finally {
  await browser.close();
  await server.close();
}

/** Two rounds answered with the dataset's labels by key (one skip), the third half answered; the labeling panel captured. */
async function captureLabeling(page: Page): Promise<void> {
  // The person knows the digits: here, MNIST's own labels, read in Node by each tile's dataset row.
  const mnist = await loadDataset('mnist', { source: nodeSource() });
  await page.click('#label-start');
  for (let round = 1; round <= 3; round++) {
    await page.waitForFunction((r) => (document.querySelector('#label-note')?.textContent ?? '').startsWith(`Round ${r}:`), round, { timeout: 300_000 });
    console.log(`round ${round}`);
    await page.focus('#label-batch');
    const rows = await page.$$eval('#label-batch .label-tile', (ts) => ts.map((t) => Number((t as HTMLElement).dataset.row)));
    const n = round === 3 ? Math.ceil(rows.length / 2) : rows.length;
    for (let i = 0; i < n; i++) {
      await page.keyboard.press(i === 2 && round === 1 ? ' ' : String(mnist.train.y[rows[i]!]));
      await page.waitForTimeout(150);
    }
    if (round < 3) await page.keyboard.press('Enter');
  }
  const pad = (await page.$('#pad-canvas'))!;
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  // A 7: the top bar, then the stem.
  await page.mouse.move(box.x + 70, box.y + 60);
  await page.mouse.down();
  for (const [x, y] of [[140, 58], [210, 60], [180, 130], [150, 200], [130, 240]] as const) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
  await page.mouse.up();
  await page.waitForSelector('#pad-bars[data-state="probs"]', { timeout: 30_000 });
  const panel = (await page.$('#panel-label'))!;
  await panel.scrollIntoViewIfNeeded();
  await page.focus('#label-batch');
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  await panel.screenshot({ path: out });
  console.log(`${out}: ${(await stat(out)).size} bytes`);
  await browser.close();
  await server.close();
}
