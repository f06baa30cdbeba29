/**
 * Helpers for the app's end-to-end tests: a Vite server (dev or preview of a build), Debian's
 * Chromium through Playwright with the project's SwiftShader flags, and page utilities.
 */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright';
import { createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../../vite.config.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CONFIG_FILE = fileURLToPath(new URL('../../vite.config.ts', import.meta.url));

function serverUrl(server: ViteDevServer | PreviewServer): string {
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error(`the server has no TCP address (${String(address)})`);
  return `http://127.0.0.1:${address.port}/`;
}

export async function startDevServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await createServer({
    root: ROOT,
    configFile: CONFIG_FILE,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, open: false, hmr: false },
  });
  await server.listen();
  return { url: serverUrl(server), close: () => server.close() };
}

export async function startPreviewServer(outDir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await preview({
    root: ROOT,
    configFile: CONFIG_FILE,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  return { url: serverUrl(server), close: () => server.close() };
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/** Collects console errors and uncaught page errors (the page's and its workers'). */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  const onConsole = (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  };
  page.on('console', onConsole);
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => {
    w.on('console', onConsole);
  });
  return errors;
}

/** A query string for the app (values as the page's link format writes them). */
export function appQuery(config: Record<string, string | number | boolean | null>): string {
  const parts = Object.entries(config).map(([k, v]) => `${k}=${encodeURIComponent(v === null ? 'all' : String(v)).replace(/%2C/g, ',')}`);
  return `?${parts.join('&')}`;
}

/** Waits until the engine has started and the form accepts the configuration. */
export async function waitForReady(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForSelector('#config-form', { timeout });
  await page.waitForFunction(() => {
    const run = document.querySelector<HTMLButtonElement>('#run-btn');
    const pill = document.querySelector<HTMLElement>('#backend-pill');
    return !!run && !run.disabled && !!pill?.dataset.backend;
  }, undefined, { timeout });
}

export async function status(page: Page): Promise<string> {
  return page.evaluate(() => document.body.dataset.status ?? '');
}
