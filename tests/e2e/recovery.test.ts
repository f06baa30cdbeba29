/**
 * End to end, the faults a long browser run meets: the GPU's WebGL context lost mid-run (forced
 * with the `WEBGL_lose_context` extension), the compute worker crashing (once, or on every
 * start), and the page reloaded mid-run. Every completed round must survive, and the run must
 * continue from the last completed round. On the production build (`vite build`, made once per test
 * run, served by `vite preview`), which is what a deployment runs: its threaded wasm backend is
 * where a run goes after a third lost context. Small shapes: WebGL here is SwiftShader, the GPU
 * emulated on the CPU. One comparison runs on WebGPU (a second Chromium with SwiftShader's WebGPU
 * adapter), and its device is lost mid-run as the WebGL context is.
 */
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults, RoundRecord } from '../../src/engine/results.ts';
import { WEBGPU_ARGS } from '../../vite.config.ts';
import { appQuery, buildSession, chartPoints, launchBrowser, SMALL_RUN, status, waitForReady, waitForStatus } from './helpers.ts';

// What these cases test is the bookkeeping around faults, not what the model learns: one epoch and
// 100-row pool and test subsets keep the rounds short.
const SMALL = { ...SMALL_RUN, seed: 11, epochs: 1, poolSubset: 100, testSubset: 100 };
/**
 * For the lost-context cases, which must be on WebGL: logistic regression, whose few shader
 * programs SwiftShader (the GPU emulated on the CPU) compiles again quickly for each fresh context.
 */
const WEBGL_LOGREG = { ...SMALL, model: 'logreg' };
/**
 * On wasm (a CPU backend, much faster here than SwiftShader's WebGL), for the cases whose subject
 * (a crashed worker, storage, tabs) does not depend on the backend.
 */
const SMALL_WASM = { ...SMALL, backend: 'wasm' };
/**
 * For the cases that need many short rounds on wasm (so that Pause or a reload lands mid-run):
 * 2 labels a round, so the labeled set, and each round's training, stay small.
 */
const TINY_WASM = { ...SMALL_WASM, model: 'logreg', query: 2 };
const app = buildSession();
const openApp = (query: string) => app.open(query);

async function waitForDone(page: Page, n: number): Promise<void> {
  await page.waitForFunction((k) => Number(document.querySelector<HTMLElement>('#progress')?.dataset.done) >= k, n, { timeout: 120_000, polling: 50 });
}

/**
 * Clicks Run, and Pause the moment `n` evaluations are done and the page says the run is running
 * (Pause acts only then; on fast wasm the first evaluations can land before that): from the page,
 * so however fast the backend is, the run is still going. Resolves once the run is paused.
 */
async function runAndPauseAt(page: Page, n: number): Promise<void> {
  const paused = page.evaluate((k) => new Promise<void>((resolve) => {
    const progress = document.querySelector<HTMLElement>('#progress')!;
    const check = () => {
      if (Number(progress.dataset.done) < k || document.body.dataset.status !== 'running') return;
      observer.disconnect();
      document.querySelector<HTMLButtonElement>('#pause-btn')!.click();
      resolve();
    };
    const observer = new MutationObserver(check);
    observer.observe(progress, { attributes: true, attributeFilter: ['data-done'] });
    observer.observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
  }), n);
  await page.click('#run-btn');
  await paused;
  await waitForStatus(page, /^paused$/, 60_000);
}

const results = (page: Page) => page.evaluate(() => window.activelab!.results()) as Promise<ExperimentResults | null>;
/** A round without its timings: what must not change when a run is interrupted and continued. */
const same = ({ ms: _ms, ...rest }: RoundRecord) => rest;
const backend = (page: Page) => page.getAttribute('#backend-pill', 'data-backend');

describe('ActiveLab under faults (the built site under vite preview, Chromium WebGL and wasm)', { timeout: 300_000 }, () => {
  it('WebGL context lost mid-run, three times: each loss reported, every completed round kept, continued on a fresh WebGL context, and after the third loss on wasm, saying so', async () => {
    // Enough short rounds (11 evaluations) that the run is still going after each loss.
    const { page, errors } = await openApp(appQuery({ ...WEBGL_LOGREG, strategies: 'margin', rounds: 10 }));
    expect(await backend(page)).toBe('webgl');
    // A read pending on the lost context never settles here: each attempt gets 1 s to wind down, not 20.
    // (A value that is not a duration is refused, and said so.)
    await page.evaluate(() => window.activelab!.setWindDown(-1));
    await page.waitForFunction(() => document.querySelector('#messages')?.textContent?.includes('the wind-down after a GPU loss takes a number of milliseconds, at least 0, got -1'), undefined, { timeout: 30_000 });
    await page.evaluate(() => window.activelab!.setWindDown(1_000));
    await page.click('#run-btn');
    await waitForDone(page, 2);
    /** The rounds completed before each loss: exactly these must be in the final results. */
    const kept: { strategy: string; round: RoundRecord }[] = [];
    for (let loss = 1; loss <= 3; loss++) {
      const before = (await results(page))!;
      kept.push(...before.runs.flatMap((r) => r.rounds.map((x) => ({ strategy: r.strategy, round: x }))));
      await page.evaluate(() => window.activelab!.loseContext());
      // The third notice is the fallback's, which names the loss too.
      await page.waitForFunction((n) => (document.querySelector('#messages')?.textContent?.match(/WebGL context was lost/g)?.length ?? 0) >= n, loss, { timeout: 60_000 }).catch(async (err: unknown) => {
        throw new Error(`no notice of loss ${loss} (status ${await status(page)}, done ${await page.getAttribute('#progress', 'data-done')}; messages: ${await page.textContent('#messages')}; errors: ${errors.join(' | ')})`, { cause: err });
      });
      if (loss === 3) break;
      const notice = (await page.textContent('#messages'))!.match(/The (\d+) completed rounds? (?:is|are) kept; continuing from the last completed round on a fresh WebGL context\./g);
      expect(notice).toHaveLength(loss);
      const keptNow = Number(/The (\d+)/.exec(notice!.at(-1)!)![1]);
      expect(keptNow).toBeGreaterThanOrEqual(before.runs.reduce((a, r) => a + r.rounds.length, 0));
      // A round completes on the fresh context, and it is WebGL.
      await waitForDone(page, keptNow + 1);
      expect(await backend(page)).toBe('webgl');
    }
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');
    expect(await page.textContent('#messages')).toMatch(/continuing from the last completed round on the wasm backend \(CPU\), because the WebGL context was lost 3 times in this run/);
    expect(await backend(page)).toBe('wasm');
    // The build's threaded wasm backend: its pthread workers started and did not crash.
    expect(await page.textContent('#backend-pill')).toBe('wasm · SIMD on, threads on');
    expect(await page.textContent('#messages')).not.toMatch(/crashed/);
    const after = (await results(page))!;
    expect(after.status).toBe('complete');
    for (const run of after.runs) {
      expect(run.status).toBe('complete');
      expect(run.rounds.map((r) => r.round)).toEqual([...Array(11).keys()]);
    }
    for (const k of kept) {
      const final = after.runs.find((r) => r.strategy === k.strategy)!.rounds[k.round.round]!;
      expect(same(final)).toEqual(same(k.round));
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a comparison on WebGPU (SwiftShader adapter): the device lost mid-run, the rounds kept, continued on a fresh device; the adapter recorded', async () => {
    const gpuBrowser = await launchBrowser(WEBGPU_ARGS);
    try {
      // The smallest model: SwiftShader's WebGPU compiles a shader per kernel and shape.
      // Rounds enough that the run is still going when the device is lost (logreg rounds are short).
      const { page, errors } = await app.open(appQuery({ ...SMALL, model: 'logreg', strategies: 'margin', rounds: 3, backend: 'webgpu' }), { browser: gpuBrowser });
      expect(await backend(page)).toBe('webgpu');
      expect(await page.textContent('#backend-pill')).toMatch(/^webgpu · google swiftshader/);
      await page.evaluate(() => window.activelab!.setWindDown(1_000));
      await page.click('#run-btn');
      await waitForDone(page, 1);
      const before = (await results(page))!;
      const kept = before.runs.flatMap((r) => r.rounds.map((x) => ({ strategy: r.strategy, round: x })));
      await page.evaluate(() => window.activelab!.loseContext());
      await page.waitForFunction(() => /WebGPU device was lost/.test(document.querySelector('#messages')?.textContent ?? ''), undefined, { timeout: 60_000 }).catch(async (err: unknown) => {
        throw new Error(`no loss notice (status ${await status(page)}, done ${await page.getAttribute('#progress', 'data-done')}; messages: ${await page.textContent('#messages')}; errors: ${errors.join(' | ')})`, { cause: err });
      });
      expect(await page.textContent('#messages')).toMatch(/The \d+ completed rounds? (is|are) kept; continuing from the last completed round on a fresh WebGPU device\./);
      expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 180_000)).toBe('complete');
      expect(await backend(page)).toBe('webgpu');
      const after = (await results(page))!;
      expect(after.config.backend).toBe('webgpu');
      expect(after.environment.backend).toBe('webgpu');
      expect(after.environment.renderer).toMatch(/^google swiftshader/);
      for (const run of after.runs) expect(run.rounds.map((r) => r.round)).toEqual([0, 1, 2, 3]);
      for (const k of kept) expect(same(after.runs.find((r) => r.strategy === k.strategy)!.rounds[k.round.round]!)).toEqual(same(k.round));
      expect(errors).toEqual([]);
    } finally {
      await gpuBrowser.close();
    }
  });

  it('worker crashed mid-run: the rounds stay on screen, a fresh worker starts, the page offers to continue, and the run ends complete with the kept rounds', async () => {
    // On wasm, with rounds enough (41 evaluations) that the run is still going when Pause lands.
    const { page } = await openApp(appQuery({ ...TINY_WASM, strategies: 'entropy', rounds: 40 }));
    // Crashed while paused after two evaluations: the run is still going, however fast the rounds are.
    await runAndPauseAt(page, 2);
    await page.evaluate(() => window.activelab!.crashWorker());
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('failed');
    expect(await page.textContent('#messages .message.error')).toMatch(/^The compute worker crashed: .*simulated crash.* The (\d+ )?completed rounds? (is|are) kept\.$/);
    const kept = (await results(page))!.runs[0]!.rounds;
    expect(kept.length).toBeGreaterThanOrEqual(2);
    // What was completed stays on screen: the summary and one chart point per kept round.
    expect(await page.$$eval('#summary-table tbody tr', (r) => r.length)).toBe(1);
    await page.waitForFunction(() => document.querySelectorAll('#curves svg').length === 1, undefined, { timeout: 30_000 });
    expect((await chartPoints(page)).length).toBe(kept.length);
    await page.waitForSelector('#resume-run', { timeout: 60_000 });
    expect(await page.textContent('.resume-offer')).toMatch(/This run stopped after \d+ of 41 evaluations\. Continue it from its last completed round\?/);
    // A fresh worker comes up on the run's backend.
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#backend-pill')?.dataset.backend === 'wasm', undefined, { timeout: 60_000 });
    expect(await status(page)).toBe('failed');
    await page.click('#resume-run');
    await waitForStatus(page, /^(starting|running)$/, 30_000);
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');
    const after = (await results(page))!;
    expect(after.runs[0]!.rounds.map((r) => r.round)).toEqual([...Array(41).keys()]);
    for (const r of kept) expect(same(after.runs[0]!.rounds[r.round]!)).toEqual(same(r));
    await page.close();
  });

  it('a worker that crashes on every start is restarted 3 times, each later, then the page stops with the rounds kept and offers Continue', async () => {
    // On wasm, with rounds enough (41 evaluations) that the run is still going when Pause lands.
    const { page, errors } = await openApp(appQuery({ ...TINY_WASM, strategies: 'entropy', rounds: 40 }));
    const starts: number[] = [];
    page.on('worker', (w) => {
      if (!w.url().startsWith('blob:')) starts.push(Date.now()); // engine workers, not wasm pthreads
    });
    // Short delays, the default 1 s, 5 s, 25 s scaled down; the policy is the page's own.
    const delays = [300, 900, 2_700];
    await page.evaluate((d) => window.activelab!.setRestartDelays(d), delays);
    // Paused as soon as two rounds are done, so the crash comes mid-run however fast wasm is.
    await runAndPauseAt(page, 2);
    const t0 = Date.now();
    await page.evaluate(() => {
      window.activelab!.crashEveryStart(true);
      window.activelab!.crashWorker();
    });
    await page.waitForFunction(() => /crashed 4 times in a row/.test(document.querySelector('#messages')?.textContent ?? ''), undefined, { timeout: 60_000 });
    // Nothing starts another: wait past the longest delay.
    await page.waitForTimeout(2 * delays[2]!);
    expect(starts).toHaveLength(3);
    const gaps = starts.map((t, i) => t - (i === 0 ? t0 : starts[i - 1]!));
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(delays[i]!));

    expect(await status(page)).toBe('failed');
    const kept = (await results(page))!.runs[0]!.rounds;
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#messages')).toContain(
      `The compute worker crashed 4 times in a row and is not restarted again; the last error: Uncaught Error: simulated crash of the compute host. The ${kept.length} completed rounds are kept. Press Continue to start a new one.`,
    );
    expect(await page.getAttribute('#backend-pill', 'data-backend')).toBe('');
    await page.waitForSelector('#resume-run', { timeout: 30_000 });
    expect(await page.textContent('.resume-offer')).toMatch(new RegExp(`This run stopped after ${kept.length} of 41 evaluations\\. Continue it from its last completed round\\?`));

    // Continue (with the fault gone) starts a new worker and completes the run from the kept rounds.
    await page.evaluate(() => window.activelab!.crashEveryStart(false));
    await page.click('#resume-run');
    await waitForStatus(page, /^(starting|running)$/, 30_000);
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');
    expect(starts).toHaveLength(4);
    const after = (await results(page))!;
    expect(after.runs[0]!.rounds.map((r) => r.round)).toEqual([...Array(41).keys()]);
    for (const r of kept) expect(same(after.runs[0]!.rounds[r.round]!)).toEqual(same(r));
    expect(await page.textContent('#messages')).not.toMatch(/crashed/);
    // The only errors are the simulated crashes (the page handles them; nothing else went wrong).
    expect(errors.filter((e) => !e.includes('simulated crash of the compute host'))).toEqual([]);
    await page.close();
  });

  it('idle, a worker that crashes on every start: 3 restarts, then the engine is stopped until Continue', async () => {
    const { page, errors } = await openApp(appQuery({ ...TINY_WASM, strategies: 'random', rounds: 1 }));
    let starts = 0;
    page.on('worker', (w) => {
      if (!w.url().startsWith('blob:')) starts++;
    });
    await page.evaluate(() => {
      window.activelab!.setRestartDelays([100, 200, 400]);
      window.activelab!.crashEveryStart(true);
      window.activelab!.crashWorker();
    });
    await page.waitForSelector('#restart-engine', { timeout: 60_000 });
    await page.waitForTimeout(1_000);
    expect(starts).toBe(3);
    expect(await page.textContent('#messages')).toContain('The compute worker crashed 4 times in a row and is not restarted again; the last error: Uncaught Error: simulated crash of the compute host. Press Continue to start a new one.');
    expect(await page.textContent('#backend-pill')).toBe('backend error: the compute worker stopped after repeated crashes');
    await page.evaluate(() => window.activelab!.crashEveryStart(false));
    await page.click('#restart-engine');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#backend-pill')?.dataset.backend === 'wasm', undefined, { timeout: 60_000 });
    expect(starts).toBe(4);
    expect(await page.$('#restart-engine')).toBeNull();
    expect(await page.textContent('#messages')).not.toMatch(/crashed/);
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 60_000)).toBe('complete');
    expect(errors.filter((e) => !e.includes('simulated crash of the compute host'))).toEqual([]);
    await page.close();
  });

  it('never offers to resume a run that is still going in another tab; offers it once that tab is closed', async () => {
    const context = await app.browser.newContext({ viewport: { width: 1360, height: 900 } });
    const a = await context.newPage();
    // On wasm (what these tab and storage cases test does not depend on the backend, and wasm is
    // far faster here than SwiftShader): enough rounds that tab a is still running when b looks.
    await a.goto(`${app.url}${appQuery({ ...SMALL_WASM, strategies: 'random', rounds: 300 })}`);
    await waitForReady(a);
    await a.click('#run-btn');
    await waitForDone(a, 2);
    const b = await context.newPage();
    await b.goto(`${app.url}${appQuery(SMALL_WASM)}`);
    await waitForReady(b);
    await b.waitForTimeout(1_500);
    expect(await b.$('#resume-run')).toBeNull();
    await a.close();
    await b.reload();
    await waitForReady(b);
    await b.waitForSelector('#resume-run', { timeout: 30_000 });
    expect(await b.textContent('.resume-offer')).toMatch(/\(mnist · mlp · random\) stopped after \d+ of 301 evaluations/);
    await context.close();
  });

  it('without IndexedDB: says completed rounds are not being saved, and the run still completes', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
    await page.goto(`${app.url}${appQuery({ ...SMALL_WASM, strategies: 'random', rounds: 1 })}`);
    await waitForReady(page);
    await page.click('#run-btn');
    await waitForStatus(page, /^(starting|running)$/, 30_000);
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');
    expect(await page.textContent('#messages')).toContain('Completed rounds are not being saved in this browser (this browser has no IndexedDB): a reload would lose them.');
    expect((await results(page))!.runs[0]!.rounds).toHaveLength(2);
    await page.close();
  });

  it('page reloaded mid-run: finds the completed rounds in IndexedDB, shows them, and resumes from the last one', async () => {
    // On wasm, whose rounds here take milliseconds: the page itself reloads the moment 3 evaluations
    // are done and in storage (rounds completed meanwhile may be stored too), so the reload lands
    // mid-run however fast the rounds are. What it saw then survives the reload in sessionStorage.
    const { page, errors } = await openApp(appQuery({ ...SMALL_WASM, query: 2, rounds: 40 }));
    await page.evaluate(() => {
      const progress = document.querySelector<HTMLElement>('#progress')!;
      const observer = new MutationObserver(() => {
        if (Number(progress.dataset.done) < 3) return;
        observer.disconnect();
        const seen = { status: window.activelab!.status(), results: window.activelab!.results() };
        void window.activelab!.saved().then(() => {
          sessionStorage.setItem('before-reload', JSON.stringify(seen));
          location.reload();
        });
      });
      observer.observe(progress, { attributes: true, attributeFilter: ['data-done'] });
    });
    const reloaded = page.waitForEvent('framenavigated', { timeout: 120_000 });
    await page.click('#run-btn');
    await reloaded;
    await waitForReady(page);
    const seen = JSON.parse((await page.evaluate(() => sessionStorage.getItem('before-reload')))!) as { status: string; results: ExperimentResults };
    expect(seen.status).toBe('running');
    const kept = seen.results.runs.flatMap((r) => r.rounds.map((x) => ({ strategy: r.strategy, round: x })));
    expect(kept.length).toBeGreaterThanOrEqual(3);
    await page.waitForSelector('#resume-run', { timeout: 30_000 });
    const offerText = (await page.textContent('.resume-offer'))!;
    const offered = new RegExp('A run started .* \\(mnist · mlp · entropy, random\\) stopped after (\\d+) of 82 evaluations').exec(offerText);
    expect(offered, offerText).not.toBeNull();
    const stored = Number(offered![1]);
    expect(stored).toBeGreaterThanOrEqual(kept.length);
    expect(stored).toBeLessThan(82);

    // Showing it draws the stored rounds without running anything.
    await page.click('#show-stored');
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#progress')?.dataset.done) === n, stored, { timeout: 10_000 });
    expect(await status(page)).toBe('aborted');
    const shown = (await results(page))!;
    expect(shown.runs.reduce((a, r) => a + r.rounds.length, 0)).toBe(stored);
    for (const k of kept) expect(same(shown.runs.find((r) => r.strategy === k.strategy)!.rounds[k.round.round]!)).toEqual(same(k.round));

    await page.click('#resume-run');
    await waitForStatus(page, /^(starting|running)$/, 30_000);
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');
    const after = (await results(page))!;
    for (const run of after.runs) expect(run.rounds.map((r) => r.round)).toEqual([...Array(41).keys()]);
    // Every stored round is the final one (those shown include the kept ones).
    for (const k of shown.runs.flatMap((r) => r.rounds.map((x) => ({ strategy: r.strategy, round: x })))) {
      expect(same(after.runs.find((r) => r.strategy === k.strategy)!.rounds[k.round.round]!)).toEqual(same(k.round));
    }
    expect(await page.textContent('#messages')).toMatch(/completed rounds are kept/);
    // Finished, and its end in storage: nothing is offered after another reload.
    await page.evaluate(() => window.activelab!.saved());
    await page.reload();
    await waitForReady(page);
    await page.waitForTimeout(1_000);
    expect(await page.$('#resume-run')).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });
});
