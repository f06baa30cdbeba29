/**
 * `npm run bench:page`: how busy the page's main thread is while a run goes, in the app as users
 * open it (the Vite dev server, Debian's Chromium; started as the e2e tests start them). A 30-round
 * comparison (margin and random, MNIST MLP, 10 labels a round, 3 epochs) on wasm in the compute
 * worker: rounds that complete several times a second, the case where the page's redraws, not the
 * engine, decide whether a click is answered at once. Prints, per repeat, the run's wall time, the
 * long tasks (over 50 ms, from the page's PerformanceObserver) and their sum, and the time from
 * pressing Pause to the click's handler running, measured in the page.
 *
 *   npm run bench:page [-- --repeats 3]
 */
import { parseArgs } from 'node:util';
import { appQuery, launchBrowser, SMALL_RUN, startDevServer, waitForReady, waitForStatus } from '../tests/e2e/helpers.ts';
import { wholeNumberFlag } from './stats.ts';

let repeats: number;
try {
  const { values } = parseArgs({ options: { repeats: { type: 'string', default: '3' } } });
  repeats = wholeNumberFlag('--repeats', values.repeats);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const QUERY = appQuery({ ...SMALL_RUN, strategies: 'margin,random', rounds: 30, backend: 'wasm' });

const server = await startDevServer();
const browser = await launchBrowser();
console.log('page main thread during a 30-round wasm run (dev server)');
console.log('repeat | run s | long tasks | sum of long tasks s | longest ms | Pause click to handler ms');
try {
  for (let r = 0; r < repeats; r++) {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${server.url}${QUERY}`);
    await waitForReady(page, 120_000);
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
    await waitForStatus(page, /^paused$/, 60_000);
    await page.click('#pause-btn');
    await waitForStatus(page, /^(complete|failed|aborted)$/, 300_000);
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
