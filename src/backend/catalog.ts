/**
 * The compute backends, as plain data: names, labels, and the facts a backend reports. No tfjs:
 * `resolveConfig`, the CLI's flags and the page read this module. `src/backend/index.ts` (which
 * loads tfjs-backend-wasm and registers kernels when imported) starts them.
 */

export const BACKEND_NAMES = ['webgl', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The backends that compute on the GPU, whose context or device the browser can take away. */
export type GpuBackendName = Extract<BackendName, 'webgl' | 'webgpu'>;

export interface BackendDescription {
  /** For the UI, e.g. "webgl (GPU)". */
  readonly label: string;
  readonly description: string;
}

export const BACKEND_CATALOG = {
  webgl: { label: 'webgl (GPU)', description: 'tfjs WebGL: computes on the GPU (browser only).' },
  webgpu: { label: 'webgpu (GPU)', description: 'tfjs WebGPU: computes on the GPU with compute shaders (browsers with WebGPU, in a secure context).' },
  wasm: { label: 'wasm (CPU, SIMD)', description: 'tfjs WebAssembly with SIMD (and threads where the page is cross-origin isolated): computes on the processor.' },
  cpu: { label: 'cpu (plain JS)', description: 'tfjs plain JavaScript kernels: slow, for checking the others.' },
} as const satisfies Record<BackendName, BackendDescription>;

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * What a configuration may ask for: a backend, or 'auto' (the default). In the page 'auto'
 * measures the candidates on the chosen model and takes the fastest (`auto-choice.ts`); in Node
 * it is wasm.
 */
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}

/**
 * The backends 'auto' measures in the page, in the order measured (the first is the reference the
 * others must beat; wasm always starts). webgpu is measured where the browser has WebGPU
 * (`navigator.gpu`); elsewhere it is left out, not reported as failing.
 */
export const AUTO_CANDIDATES: readonly BackendName[] = ['wasm', 'webgl', 'webgpu'];

/** Plain facts about the active backend, for the UI, logs and benchmark records. */
export interface BackendInfo {
  backend: string;
  /**
   * WebGL: the unmasked renderer string, e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...))".
   * WebGPU: the adapter's info in one line, e.g. "google swiftshader; fallback adapter".
   */
  renderer: string | null;
  webglVersion: number | null;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
  /** WebGPU: the adapter's info as the browser gives it (absent or null elsewhere). */
  adapter?: WebgpuAdapterInfo | null;
}

/** What a WebGPU adapter says about itself (`GPUAdapterInfo`), as plain data. */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software or otherwise slow adapter (SwiftShader's is); null where the browser does not say. */
  isFallbackAdapter: boolean | null;
}
