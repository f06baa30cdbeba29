/**
 * End to end: `backend: 'auto'` in the page (Debian's Chromium, WebGL on SwiftShader). The default
 * comparison's model is measured on wasm and WebGL; here WebGL is CPU-emulated and slower, so wasm
 * wins, and the backend pill says why. A second load in the same browser profile reads the cached
 * timings instead of measuring again; `?backend=webgl` overrides the choice. No figure is asserted
 * about speed beyond the ordering that decides the pick (speed lives in `npm run bench`).
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { appQuery, collectErrors, buildSession, SMALL_RUN, waitForReady, waitForStatus } from './helpers.ts';

const app = buildSession();

const pill = (page: Page) => page.evaluate(() => {
  const el = document.querySelector<HTMLElement>('#backend-pill')!;
  return { backend: el.dataset.backend ?? '', choice: el.dataset.choice ?? '', text: el.textContent ?? '', title: el.title };
});

describe("backend 'auto' (the built site, Chromium with SwiftShader WebGL)", { timeout: 400_000 }, () => {
  it('the default comparison picks wasm over CPU-emulated WebGL and says why; a second load uses the cached timings; ?backend=webgl overrides', async () => {
    const context = await app.browser.newContext({ viewport: { width: 1360, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = collectErrors(page);
      const statuses: string[] = [];
      await page.exposeFunction('reportStatusLine', (s: string) => statuses.push(s));
      // Every text the backend pill shows while the page starts (the calibration says what it measures).
      await page.addInitScript(() => {
        const seen = new Set<string>();
        const poll = () => {
          const t = document.querySelector('#backend-pill')?.textContent;
          if (t && !seen.has(t)) {
            seen.add(t);
            (window as unknown as { reportStatusLine(s: string): void }).reportStatusLine(t);
          }
        };
        setInterval(poll, 50);
      });
      await page.goto(app.url);
      await waitForReady(page, 300_000);
      expect(await page.inputValue('#f-backend')).toBe('auto');
      const first = await pill(page);
      expect(first.backend).toBe('wasm');
      expect(first.choice).toBe('measured');
      expect(first.text).toMatch(/^wasm \(auto\): (at least )?\d+(\.\d)?x faster than WebGL here, which is CPU-emulated \(SwiftShader\)$/);
      expect(first.title).toContain('just measured');
      expect(first.title).toMatch(/wasm: \d+ ms for training steps and a predict chunk/);
      expect(first.title).toMatch(/webgl: (\d+ ms|given up after \d+ ms)/);
      expect(statuses.some((s) => /measuring webgl on cnn/.test(s))).toBe(true);

      // The same profile again: the timings come from IndexedDB, nothing is measured.
      statuses.length = 0;
      await page.reload();
      await waitForReady(page, 120_000);
      const second = await pill(page);
      expect(second).toMatchObject({ backend: 'wasm', choice: 'cached', text: first.text });
      expect(second.title).toContain('measured earlier');
      expect(statuses.filter((s) => /measuring/.test(s))).toEqual([]);

      // An explicit backend in the link is used as it is.
      const forced = await context.newPage();
      const forcedErrors = collectErrors(forced);
      await forced.goto(`${app.url}?backend=webgl`);
      await waitForReady(forced, 120_000);
      expect(await forced.inputValue('#f-backend')).toBe('webgl');
      expect(await pill(forced)).toMatchObject({ backend: 'webgl', choice: '' });
      expect((await pill(forced)).text).toMatch(/^webgl 2 · .*SwiftShader/);
      expect([...errors, ...forcedErrors]).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a run on auto records what was picked, why, and the timings', async () => {
    const { page, errors } = await app.open(appQuery({ ...SMALL_RUN, backend: 'auto' }));
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 300_000)).toBe('complete');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const results = JSON.parse(await readFile(await download.path(), 'utf8')) as ExperimentResults;
    expect(results.config.backend).toBe('auto');
    expect(results.environment.backend).toBe('wasm');
    const choice = results.environment.backendChoice!;
    expect(choice).toMatchObject({ requested: 'auto', picked: 'wasm' });
    expect(choice.reason).toMatch(/faster than WebGL here, which is CPU-emulated \(SwiftShader\)/);
    expect(choice.timings.map((t) => t.backend)).toEqual(['wasm', 'webgl']);
    expect(choice.timings[0]).toMatchObject({ complete: true, error: null });
    expect(choice.timings[1]!.renderer).toMatch(/SwiftShader/);
    expect(errors).toEqual([]);
  });
});
