/// <reference types="vitest/config" />
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { configDefaults } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { datasetsPlugin } from './datasets/vite-plugin.ts';
import { cspPlugin } from './src/security/csp.ts';
import { wasmThreadsPlugin } from './src/backend/wasm-threads-plugin.ts';

/**
 * Debian's Chromium, never a downloaded browser (none can be downloaded here).
 * CHROMIUM_PATH overrides the lookup.
 */
export function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execSync('command -v chromium || command -v chromium-browser', { shell: '/bin/sh' })
      .toString()
      .trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Flags that give headless Chromium a real WebGL2 context on a machine with no GPU
 * (ANGLE on SwiftShader), and keep it off a network it cannot reach. The page itself is
 * composited in software (`--disable-gpu-compositing`): WebGL still runs on SwiftShader, but the
 * page's own frames no longer go through it too. Measured here on a 10-round logreg run in the app:
 * 28.9 CPU-s of Chromium on WebGL (16.6 of them in the GPU process) became 23.3 (8.4), and a wasm
 * run's 12.2 became 9.6; the tests check the page's content, never its pixels.
 */
export const CHROMIUM_ARGS = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-gpu-compositing',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Added for the webgpu test project and the bench's WebGPU pass: a WebGPU adapter from SwiftShader
 * (Vulkan on the CPU) where there is no GPU. `navigator.gpu` exists only in a secure context: a
 * page on http://127.0.0.1 or localhost, not about:blank.
 */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/**
 * The kernel suites the webgpu project runs. By default the quick ones (about 10 s of tests on
 * SwiftShader here; the whole set took 10 min, batch-bald alone 6 min). WEBGPU_SUITES=all runs
 * every shared kernel suite. (Their committee, MC and BatchBALD measures once read back zeros on
 * webgpu: tfjs-backend-webgpu 4.22 compiles no int32/bool transpose, and WebGPU then drops every
 * op batched with it; src/backend/webgpu-int-transpose.ts works around it, and the webgpu
 * suites now fail on any error the device reports.)
 */
const WEBGPU_KERNEL_SUITES = process.env.WEBGPU_SUITES === 'all'
  ? ['tests/kernels/**/*.test.ts']
  : ['backend', 'select', 'stochastic', 'strategies', 'validate', 'fuzz', 'calibration-samples', 'memory'].map((f) => `tests/kernels/${f}.test.ts`);

/**
 * Cross-origin isolation (COOP + COEP): gives the page SharedArrayBuffer, so the wasm backend can
 * load its threaded SIMD binary (tfjs-backend-wasm-threaded-simd.wasm). Everything is served from
 * this origin, so require-corp blocks nothing.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** A browser test project's settings: headless Debian Chromium with `args`, the browser setup file. */
function inChromium(args: string[]) {
  return {
    setupFiles: ['tests/support/browser-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({ launchOptions: { executablePath: chromiumPath(), args } }),
      instances: [{ browser: 'chromium' as const }],
    },
  };
}

export default defineConfig({
  // Serves the dataset files at /data/ in dev and emits them into the build; puts the
  // Content-Security-Policy on the page (meta tag) and on every dev / preview response (header);
  // in the build, serves the threaded wasm glue as the unbundled asset its pthread workers load.
  plugins: [datasetsPlugin(), cspPlugin(), wasmThreadsPlugin()],
  // tfjs-vis's charts (the Model panel) call vega-embed, whose vega 5 compiles expressions with
  // `new Function`, which the CSP blocks: `vega-embed` resolves, in the dev server's dependency
  // pre-bundling and in the build, to a small module on the app's vega 6 and vega-interpreter.
  resolve: { alias: [{ find: /^vega-embed$/, replacement: fileURLToPath(new URL('./src/app/views/vega-embed-csp.ts', import.meta.url)) }] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // The app's compute worker (src/app/host/worker.ts) is an ES module worker, in dev and in the build.
  // Vite bundles it on its own: `plugins` does not reach it in the build, `worker.plugins` does.
  worker: { format: 'es', plugins: () => [wasmThreadsPlugin()] },
  // tfjs (in the worker, and in the page-thread fallback chunk) and vega are large by nature.
  build: { chunkSizeWarningLimit: 2000 },
  test: {
    // A JSON report for .ci/run to sum (`npm test` runs the e2e project in a second Vitest
    // process, which writes test-results/vitest-e2e.json); the console keeps the default reporter.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['tests/kernels/**/*.test.ts', 'tests/node/**/*.test.ts'],
          // The files of a worker share one module graph: tfjs and its wasm backend load once per
          // worker, not once per file (the node project took 391 CPU-s isolated and 269 shared,
          // measured here). Safe because no file leans on another's state: each suite picks its
          // backend (onBackend, useBackend), and every spy, mock and fake timer is restored in the
          // file that made it; a run with the files shuffled (--sequence.shuffle.files) passes.
          isolate: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The app in Chromium (dev server and built site), driven by Playwright from Node. One
        // file at a time: each file drives SwiftShader (the CPU-emulated GPU) or the wasm backend
        // with a Chromium of its own, and two at once would only fight over the cores.
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          // One dev server for all the files, and the production build made once (helpers.ts).
          globalSetup: ['tests/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/kernels/**/*.test.ts'],
          // The shared kernel suites in one page: tfjs, its backends and WebGL's compiled shader
          // programs are made once, not once per file (SwiftShader compiles every program on the CPU).
          isolate: false,
          ...inChromium(CHROMIUM_ARGS),
        },
      },
      {
        // The browser's own files, each in a fresh page: some change tfjs flags for the whole page
        // (mc-logits-f16.test.ts forces float16 textures). WebGPU's need the webgpu project's flags.
        extends: true,
        test: {
          name: 'browser-files',
          include: ['tests/browser/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/browser/**/*webgpu*.test.ts'],
          ...inChromium(CHROMIUM_ARGS),
        },
      },
      {
        // The shared kernel suites again, on webgpu (SwiftShader's adapter), at WebGL's tolerances:
        // `testBackends` replaces the browser default (webgl, wasm) in tests/support/backends.ts.
        // The wasm kernel suites compare wasm with cpu only, so they do not run here. See
        // WEBGPU_KERNEL_SUITES for which suites `npm test` runs.
        extends: true,
        test: {
          name: 'webgpu',
          include: [...WEBGPU_KERNEL_SUITES, 'tests/browser/**/*webgpu*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/kernels/wasm-*.test.ts'],
          provide: { testBackends: ['webgpu'] },
          ...inChromium([...CHROMIUM_ARGS, ...WEBGPU_ARGS]),
        },
      },
    ],
  },
});
