/**
 * End to end: the page checks the form and results files itself (resolveConfig and
 * validateResults against the catalogs), with the compute worker held back: its script request
 * is intercepted and left unanswered, so no engine exists while the messages appear. Released, the
 * worker starts, and the page sends it no validation messages.
 */
import type { Route } from 'playwright';
import { describe, expect, it } from 'vitest';
import { collectErrors, devServerSession, waitForReady } from './helpers.ts';

const app = devServerSession();

describe('the page validates by itself', { timeout: 240_000 }, () => {
  it('shows a bad field\'s message, and a bad results file\'s, while the worker has not started', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors = collectErrors(page);
    // Every message the page posts to a worker, by type.
    await page.addInitScript(() => {
      const w = window as unknown as { __posted: string[] };
      w.__posted = [];
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (this: Worker, msg: unknown, ...rest: unknown[]) {
        w.__posted.push(String((msg as { type?: unknown } | null)?.type));
        return (post as (...a: unknown[]) => void).call(this, msg, ...rest);
      };
    });
    // Hold the engine back: the worker's script (and the page-thread fallback, were it tried) is never served.
    const held: Route[] = [];
    await page.route(/\/src\/app\/host\/(worker|engine-host)\.ts/, (route) => void held.push(route));

    // backend=wasm: released, the worker would otherwise time each backend for the CNN first (auto).
    await page.goto(`${app.url}?initial=0&rounds=3&backend=wasm`);
    await page.waitForSelector('#config-form');
    // The link's refused value is replaced by the default, with resolveConfig's message beside it.
    expect(await page.textContent('#err-initial')).toBe('From the link: config.initial = 0 is not allowed: an integer from 1 to 60000. Using 20 instead.');
    expect(await page.inputValue('#f-rounds')).toBe('3');
    expect(await page.isEnabled('#run-btn')).toBe(true);

    // Edits are checked at once, field by field and across fields.
    await page.fill('#f-query', '0');
    expect(await page.textContent('#err-query')).toBe('config.query = 0 is not allowed: an integer from 1 to 60000');
    expect(await page.getAttribute('#f-query', 'aria-invalid')).toBe('true');
    expect(await page.isDisabled('#run-btn')).toBe(true);
    await page.fill('#f-query', '10');
    expect(await page.textContent('#err-query')).toBe('');
    expect(await page.getAttribute('#f-learningRate', 'placeholder')).toBe("model's default (0.001)");
    await page.selectOption('#f-model', 'logreg');
    // A blank learning rate is the model's (models/catalog.ts), and the field says which.
    expect(await page.getAttribute('#f-learningRate', 'placeholder')).toBe("model's default (0.01)");
    expect(await page.textContent('#err-strategies')).toBe(
      "config.strategies = ['bald'] is not allowed: MC-dropout strategies need a model with dropout; 'logreg' has none (use mlp or cnn)");
    expect(await page.isDisabled('#run-btn')).toBe(true);
    await page.selectOption('#f-model', 'cnn');
    expect(await page.textContent('#err-strategies')).toBe('');

    // A results file is checked here too.
    await page.setInputFiles('#open-results', { name: 'v2.json', mimeType: 'application/json', buffer: Buffer.from('{"version": 2}') });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#open-status')?.dataset.state === 'error', undefined, { timeout: 10_000 });
    expect(await page.textContent('#open-status')).toBe('Could not open v2.json: results.version = 2 is not allowed: 1 (the only results format so far)');

    // All of it with no engine: the worker's script is still unanswered, nothing was posted to it.
    expect(held.map((r) => new URL(r.request().url()).pathname)).toEqual(['/src/app/host/worker.ts']);
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('');
    expect(await page.textContent('#thread-pill')).toBe('engine starting…');
    expect(await page.evaluate(() => (window as unknown as { __posted: string[] }).__posted)).toEqual([]);

    // Released, the worker starts; the page asks it for nothing but a backend while the form is edited.
    for (const r of held) await r.continue();
    await page.unroute(/\/src\/app\/host\/(worker|engine-host)\.ts/);
    await waitForReady(page);
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('worker');
    await page.fill('#f-query', '0');
    expect(await page.textContent('#err-query')).toBe('config.query = 0 is not allowed: an integer from 1 to 60000');
    await page.fill('#f-query', '10');
    expect(new Set(await page.evaluate(() => (window as unknown as { __posted: string[] }).__posted))).toEqual(new Set(['backend']));
    expect(errors).toEqual([]);
    await page.close();
  });
});
