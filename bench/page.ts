/**
 * `npm run bench:page`: how busy the page's main thread is while a run goes, in the app as users
 * open it (the Vite dev server, Debian's Chromium). A 30-round comparison (margin and random, MNIST
 * MLP, 10 labels a round, 3 epochs) on wasm in the compute worker: rounds that complete several
 * times a second, the case where the page's redraws, not the engine, decide whether a click is
 * answered at once. Prints, per repeat, the run's wall time, the long tasks (over 50 ms, from the
 * page's PerformanceObserver) and their sum, and the time from pressing Pause to the click's
 * handler running, measured in the page.
 *
 *   npm run bench:page [-- --repeats 3]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../vite.config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { repeats: { type: 'string', default: '3' } } });
const repeats = Number(values.repeats);
if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats takes a whole number of at least 1, got '${values.repeats}'`);

const QUERY = new URLSearchParams({
  dataset: 'mnist', model: 'mlp', strategies: 'margin,random', initial: '10', balanced: 'true', query: '10', rounds: '30',
  repeats: '1', epochs: '3', batchSize: '16', poolSubset: '200', testSubset: '200', stopSet: '0', seed: '7', backend: 'wasm',
});

const executablePath = chromiumPath();
if (!executablePath) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
const server = await createServer({ root: ROOT, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, hmr: false } });
await server.listen();
const address = server.httpServer?.address();
if (!address || typeof address === 'string') throw new Error('the dev server has no TCP address');
const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });

console.log(`page main thread during a 30-round wasm run (${executablePath}, dev server)`);
console.log('repeat | run s | long tasks | sum of long tasks s | longest ms | Pause click to handler ms');
try {
  for (let r = 0; r < repeats; r++) {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`http://127.0.0.1:${address.port}/?${QUERY}`);
    await page.waitForFunction(() => {
      const run = document.querySelector<HTMLButtonElement>('#run-btn');
      return !!run && !run.disabled && !!document.querySelector<HTMLElement>('#backend-pill')?.dataset.backend;
    }, undefined, { timeout: 120_000 });
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    const t0 = Date.now();
    await page.click('#run-btn');
    // Mid-run: Pause, timed from the press (the event's timeStamp) to its handler, then Resume.
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#progress')?.dataset.done) >= 20, undefined, { timeout: 120_000, polling: 100 });
    await page.evaluate(() => {
      const w = window as unknown as { clickDelay?: number };
      document.querySelector('#pause-btn')!.addEventListener('click', (e) => (w.clickDelay = performance.now() - e.timeStamp), { once: true, capture: true });
    });
    await page.click('#pause-btn');
    await page.waitForFunction(() => document.body.dataset.status === 'paused', undefined, { timeout: 60_000 });
    await page.click('#pause-btn');
    await page.waitForFunction(() => /^(complete|failed|aborted)$/.test(document.body.dataset.status ?? ''), undefined, { timeout: 300_000, polling: 200 });
    const ms = Date.now() - t0;
    const { longTasks, clickDelay } = await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[]; clickDelay: number };
      return { longTasks: w.longTasks, clickDelay: w.clickDelay };
    });
    const sum = longTasks.reduce((a, b) => a + b, 0);
    console.log(`${r + 1} | ${(ms / 1000).toFixed(1)} | ${longTasks.length} | ${(sum / 1000).toFixed(2)} | ${Math.round(Math.max(0, ...longTasks))} | ${clickDelay.toFixed(1)}`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
