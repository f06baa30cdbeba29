/**
 * Captures docs/screenshot.png: a finished comparison in the app (dev server, Chromium WebGL).
 *
 *   npm run screenshot                      # the default comparison below
 *   npm run screenshot -- '?dataset=...'    # any link query
 *
 * Not a test (slow on a machine without a GPU); keeps the PNG under 300 kB.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { launchBrowser, ROOT, startDevServer, waitForReady } from './helpers.ts';

const DEFAULT_QUERY =
  '?dataset=mnist&model=mlp&strategies=entropy,margin,bald,random&initial=20&balanced=true&query=10&rounds=10&repeats=2' +
  '&epochs=20&batchSize=32&poolSubset=1000&testSubset=1000&mcSamples=10&seed=1&backend=webgl&target=0.7';
const MAX_BYTES = 300_000;

const query = process.argv[2] ?? DEFAULT_QUERY;
const out = join(ROOT, 'docs/screenshot.png');
const server = await startDevServer();
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1600 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
  await page.goto(`${server.url}${query}`);
  await waitForReady(page);
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
