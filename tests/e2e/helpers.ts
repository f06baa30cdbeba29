/**
 * Helpers for the app's end-to-end tests: a Vite server (dev or preview of a build), Debian's
 * Chromium through Playwright with the project's SwiftShader flags, and page utilities.
 */
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page, type Response } from 'playwright';
import { afterAll, beforeAll, inject } from 'vitest';
import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
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

/** Chromium with the project's flags; `extraArgs`, e.g. WEBGPU_ARGS for SwiftShader's WebGPU adapter. */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
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

// ---------------------------------------------------------------------------------------------
// Content-Security-Policy

export interface CspViolation {
  directive: string;
  blocked: string;
  source: string;
  line: number;
}

/**
 * Records every `securitypolicyviolation` event of the page from its first script on (an init
 * script, so nothing before main.ts is missed). The engine worker's violations do not reach the
 * document: the worker writes them to its console (src/app/host/csp-report.ts), where
 * `collectErrors` sees them.
 */
export async function recordCspViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __cspViolations: unknown[] };
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__cspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber });
    });
  });
}

export async function cspViolations(page: Page): Promise<CspViolation[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: CspViolation[] }).__cspViolations ?? []);
}

/** The policies the document is under: its response header and its `<meta http-equiv>` tags. */
export async function policiesInForce(page: Page, response: Response | null): Promise<{ header: string | null; meta: string[] }> {
  const header = (await response?.allHeaders())?.['content-security-policy'] ?? null;
  const meta = await page.$$eval('meta[http-equiv="Content-Security-Policy" i]', (ms) => ms.map((m) => m.getAttribute('content') ?? ''));
  return { header, meta };
}

/**
 * What lets script in, in a policy: the sources of the directives that govern scripts
 * (script-src-elem and script-src-attr fall back to script-src, which falls back to default-src).
 * Returns the offending sources: 'unsafe-inline', 'unsafe-eval', or a missing script-src.
 */
export function scriptPolicyProblems(policy: string): string[] {
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
  }
  const base = directives.get('script-src') ?? directives.get('default-src');
  if (!base) return ['no script-src or default-src: scripts are unrestricted'];
  const problems: string[] = [];
  for (const name of ['script-src', 'script-src-elem', 'script-src-attr', 'worker-src']) {
    const values = directives.get(name) ?? base;
    for (const v of values) {
      const lower = v.toLowerCase();
      if (lower === "'unsafe-inline'" || lower === "'unsafe-eval'" || lower === '*' || lower === 'data:' || lower === 'http:' || lower === 'https:') {
        problems.push(`${name} allows ${v}`);
      }
    }
  }
  return [...new Set(problems)];
}

/**
 * Shows that the policy is live rather than merely present: on the page, an injected inline
 * `<script>` and a string passed to setTimeout (eval) must be blocked and reported; in the engine
 * worker, a string timer must be blocked and reported too. Run it last: it leaves the expected
 * violations in `errors` and in the page's record, and checks and removes them.
 */
export async function probeCspIsLive(page: Page, errors: string[]): Promise<void> {
  const flags = () => page.evaluate(() => {
    const w = window as unknown as { __inlineRan?: number; __evalRan?: number };
    return { inline: w.__inlineRan ?? null, eval: w.__evalRan ?? null };
  });
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = 1';
    document.body.appendChild(script);
    // A string timer is compiled later, outside the DevTools evaluation, under the page's policy.
    window.setTimeout('window.__evalRan = 1', 0);
  });
  const worker = page.workers().find((w) => !w.url().startsWith('blob:'));
  if (!worker) throw new Error('no engine worker on the page');
  await worker.evaluate(() => {
    self.setTimeout('self.__evalRan = 1', 0);
  });
  await page.waitForFunction(() => ((window as unknown as { __cspViolations?: unknown[] }).__cspViolations?.length ?? 0) >= 2, undefined, { timeout: 10_000 });
  const deadline = Date.now() + 10_000;
  while (!errors.some((e) => e.includes('in the engine worker')) && Date.now() < deadline) await page.waitForTimeout(100);

  const ran = await flags();
  const workerRan = await worker.evaluate(() => (self as unknown as { __evalRan?: number }).__evalRan ?? null);
  const violations = await cspViolations(page);
  // Each policy in force (header and meta tag) reports its own violation: compare distinct ones.
  const distinct = (xs: string[]) => [...new Set(xs)].sort();
  const summary = {
    ran, workerRan,
    violations: distinct(violations.map((v) => `${v.directive} ${v.blocked}`)),
    workerErrors: distinct(errors.filter((e) => e.includes('in the engine worker'))),
  };
  const expected = {
    ran: { inline: null, eval: null },
    workerRan: null,
    violations: ['script-src eval', 'script-src-elem inline'],
    workerErrors: ['console.error: Content-Security-Policy violation in the engine worker: script-src blocked eval'],
  };
  if (JSON.stringify(summary) !== JSON.stringify(expected)) {
    throw new Error(`the Content-Security-Policy is not live as expected:\n${JSON.stringify(summary, null, 1)}`);
  }
  // The page's own console reports of the two blocked probes, and the worker's.
  for (let i = errors.length - 1; i >= 0; i--) {
    if (/Content Security Policy|Content-Security-Policy/.test(errors[i]!)) errors.splice(i, 1);
  }
}

/**
 * A small MNIST comparison on WebGL that SwiftShader runs in seconds per round. No stop set: its
 * default 2,000 rows, predicted every round, would be most of such a run's work (the stopping
 * advice is tested in Node, and the labeling e2e keeps the default).
 */
export const SMALL_RUN = {
  dataset: 'mnist', model: 'mlp', strategies: 'entropy,random', initial: 10, balanced: true, query: 10, rounds: 3,
  repeats: 1, epochs: 3, batchSize: 16, poolSubset: 200, testSubset: 200, stopSet: 0, seed: 7, backend: 'webgl',
};

/**
 * The dev server (started once for the e2e project by global-setup.ts) and one Chromium for a
 * test file (launched in beforeAll, closed in afterAll). `open(query)` loads the app in a fresh
 * page (its own browser context), collecting its errors and CSP violations, and waits until the
 * engine is ready. A file run outside the project's global setup starts a dev server of its own.
 */
export function devServerSession() {
  return serverSession('the dev server', async () => {
    const url = inject('e2eDevServerUrl');
    if (url) return { url, outDir: null, close: async () => {} };
    return { ...(await startDevServer()), outDir: null };
  });
}

/**
 * Like devServerSession, on the production build (`vite build`, with the ~110 MB of data the
 * datasets plugin emits) served by `vite preview`. The build is made once per test run, by the
 * first file that needs it, into the project's shared folder (global-setup.ts removes it), and
 * later files serve the same one: the e2e files run one at a time, so no two build at once.
 * `outDir` is where the build lies.
 */
export function buildSession() {
  return serverSession('the built site', async () => {
    const shared = inject('e2eSharedDir');
    const outDir = shared ? join(shared, 'build') : await mkdtemp(join(tmpdir(), 'activelab-build-'));
    const marker = join(outDir, '.activelab-build-complete');
    const built = await access(marker).then(() => true, () => false);
    try {
      if (!built) {
        await mkdir(outDir, { recursive: true });
        await build({ root: ROOT, configFile: CONFIG_FILE, logLevel: 'warn', build: { outDir, emptyOutDir: true, reportCompressedSize: false } });
        await writeFile(marker, new Date().toISOString());
      }
      const server = await startPreviewServer(outDir);
      return {
        url: server.url,
        outDir,
        close: async () => {
          await server.close();
          if (!shared) await rm(outDir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await rm(outDir, { recursive: true, force: true });
      throw err;
    }
  });
}

function serverSession(what: string, start: () => Promise<{ url: string; outDir: string | null; close: () => Promise<void> }>) {
  let server: Awaited<ReturnType<typeof start>> | null = null;
  let browser: Browser | null = null;
  beforeAll(async () => {
    server = await start();
    browser = await launchBrowser();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  const missing = (thing: string) => new Error(`${thing} is not started (call the session function at the top of the test file)`);
  const session = {
    get url(): string {
      if (!server) throw missing(what);
      return server.url;
    },
    /** The build's output directory (the built site only). */
    get outDir(): string {
      if (!server?.outDir) throw missing(`${what}'s build`);
      return server.outDir;
    },
    get browser(): Browser {
      if (!browser) throw missing('the browser');
      return browser;
    },
    /** `opts.browser`: another Chromium than the session's (e.g. one launched with WEBGPU_ARGS). */
    async open(query: string, opts: { viewport?: { width: number; height: number }; browser?: Browser } = {}): Promise<{ page: Page; errors: string[]; response: Response | null }> {
      const page = await (opts.browser ?? session.browser).newPage({ viewport: opts.viewport ?? { width: 1360, height: 900 }, acceptDownloads: true });
      const errors = collectErrors(page);
      await recordCspViolations(page);
      const response = await page.goto(`${session.url}${query}`);
      await waitForReady(page);
      return { page, errors, response };
    },
  };
  return session;
}

/** Waits until the page's run status (body[data-status]) matches `re`; returns it. */
export async function waitForStatus(page: Page, re: RegExp, timeout = 90_000): Promise<string> {
  const handle = await page.waitForFunction((src) => new RegExp(src).test(document.body.dataset.status ?? '') && document.body.dataset.status, re.source, { timeout, polling: 100 });
  return (await handle.jsonValue()) as string;
}

/** The (labeled, accuracy) points of the learning-curve chart, read from the rendered SVG's marks. */
export async function chartPoints(page: Page): Promise<string[]> {
  return page.$$eval('#curves svg path[aria-roledescription="point"], #curves svg .mark-symbol path', (els) =>
    els.map((e) => e.getAttribute('aria-label') ?? '').filter((s) => s.length > 0));
}
