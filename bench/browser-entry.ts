/** Runs the kernel benchmark in the page on webgl and wasm; the Node runner collects the result. */
import { backendInfo, useBackend } from '../src/backend/index.ts';
import { configureWasmPaths } from '../src/backend/wasm-paths.browser.ts';
import { benchKernels, type KernelRecord } from './kernels.ts';

declare global {
  interface Window {
    __bench?: { records: (KernelRecord & { renderer?: string | null })[]; error?: string };
  }
}

async function main(): Promise<void> {
  configureWasmPaths();
  const quick = new URLSearchParams(location.search).has('quick');
  const records: (KernelRecord & { renderer?: string | null })[] = [];
  for (const backend of ['webgl', 'wasm'] as const) {
    await useBackend(backend);
    const renderer = backendInfo().renderer;
    for (const r of await benchKernels(quick ? { runs: 3, warmup: 1 } : {})) records.push({ ...r, renderer });
  }
  document.getElementById('out')!.textContent = JSON.stringify(records, null, 2);
  window.__bench = { records };
}

main().catch((err: unknown) => {
  window.__bench = { records: [], error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
});
