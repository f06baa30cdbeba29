/**
 * Runs the benchmark suites in the page on webgl, webgpu (where the browser has WebGPU) and wasm;
 * the Node runner (bench/run.ts) collects `window.__bench`. Query: `?quick` for CI sizes,
 * `?suites=kernels,predict,...` to select suites, `?backends=webgpu,wasm` to select backends.
 * Progress goes to the console as `[bench] ...` lines (the runner prints them).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { fetchSource, loadDataset, type Dataset } from '../datasets/index.ts';
import { backendInfo, useBackend, type BackendInfo } from '../src/backend/index.ts';
import { configureWasmPaths } from '../src/backend/wasm-paths.browser.ts';
import { probeAdapter, webgpuRegistered } from '../src/backend/webgpu.ts';
import type { KernelRecord } from './kernels.ts';
import { SUITES, type SuiteName } from './plan.ts';
import { emptyResults, runSuites, type SuiteResults } from './suites.ts';

export interface PageEnvironment {
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  webgl: (BackendInfo & { maxTextureSize: number | null; renderFloat32: boolean }) | null;
  /** WebGPU's adapter info (`BackendInfo.adapter`, and `renderer` its label); null where it did not run. */
  webgpu: BackendInfo | null;
  wasm: (BackendInfo & { threadsCount: number }) | null;
}

export interface PageResult extends Omit<SuiteResults, 'kernels' | 'leakedTensors'> {
  /** The kernel benchmark (bench/results/kernels.json), as before. */
  records: (KernelRecord & { renderer?: string | null })[];
  env: PageEnvironment;
  leakedTensors: Record<string, number>;
  error?: string;
}

declare global {
  interface Window {
    __bench?: PageResult;
  }
}

const log = (line: string) => console.log(`[bench] ${line}`);

async function main(): Promise<PageResult> {
  configureWasmPaths();
  const params = new URLSearchParams(location.search);
  const quick = params.has('quick');
  const only = new Set<SuiteName>(
    params.get('suites') ? (params.get('suites')!.split(',').filter((s): s is SuiteName => (SUITES as readonly string[]).includes(s))) : SUITES,
  );
  let mnist: Promise<Dataset<string>> | null = null;
  const loadMnist = () => (mnist ??= loadDataset('mnist', { source: fetchSource('/data/') }));
  const env: PageEnvironment = {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    webgl: null,
    webgpu: null,
    wasm: null,
  };
  const result: PageResult = { ...emptyResults(), records: [], env, leakedTensors: {} };
  const PAGE_BACKENDS = ['webgl', 'webgpu', 'wasm'] as const;
  const wanted = params.get('backends')?.split(',');
  // webgpu only where the browser offers an adapter (navigator.gpu, a secure context, a GPU or SwiftShader's).
  const hasWebgpu = webgpuRegistered() && (await probeAdapter()) !== null;
  const backends = PAGE_BACKENDS.filter((b) => (!wanted || wanted.includes(b)) && (b !== 'webgpu' || hasWebgpu));
  if (!hasWebgpu) log('webgpu: no adapter here, skipped');
  for (const backend of backends) {
    await useBackend(backend);
    const info = backendInfo();
    if (backend === 'webgpu') {
      env.webgpu = info;
    } else if (backend === 'webgl') {
      const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
      env.webgl = {
        ...info,
        maxTextureSize: gl ? Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)) : null,
        renderFloat32: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
      };
    } else {
      env.wasm = { ...info, threadsCount: getThreadsCount() };
    }
    log(`${backend}: ${JSON.stringify(backend === 'webgl' ? env.webgl : backend === 'webgpu' ? env.webgpu : env.wasm)}`);
    const r = await runSuites('chromium', quick, only, loadMnist, log);
    result.records.push(...r.kernels.map((k) => ({ ...k, renderer: info.renderer })));
    result.predict.push(...r.predict);
    result.train.push(...r.train);
    result.round.push(...r.round);
    result.soak.push(...r.soak);
    result.errors.push(...r.errors);
    result.leakedTensors[backend] = r.leakedTensors;
  }
  return result;
}

main()
  .then((result) => {
    document.getElementById('out')!.textContent = JSON.stringify(result.records, null, 2);
    window.__bench = result;
  })
  .catch((err: unknown) => {
    const env: PageEnvironment = { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, crossOriginIsolated: globalThis.crossOriginIsolated === true, webgl: null, webgpu: null, wasm: null };
    window.__bench = { ...emptyResults(), records: [], env, leakedTensors: {}, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  });
