/**
 * The build's fix for the threaded wasm backend (src/backend/wasm-threads-plugin.ts): the pthread
 * workers load the glue as an unbundled asset instead of the minified factory's toString().
 * Checked on the installed tfjs-backend-wasm, so an upgrade that moves the statement fails here.
 * (The built site running on threaded wasm: tests/e2e/build.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKEND_MODULE, pointThreadsAtGlueAsset, STRINGIFIED_GLUE, wasmThreadsPlugin } from '../../src/backend/wasm-threads-plugin.ts';

const pkgDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
const backendFile = join(pkgDir, 'dist', 'backend_wasm.js');

describe('wasmThreadsPlugin', () => {
  it('hands the pthread workers the glue asset\'s absolute URL instead of the bundled factory\'s source', async () => {
    const code = await readFile(backendFile, 'utf8');
    expect(code).toMatch(STRINGIFIED_GLUE);
    const out = pointThreadsAtGlueAsset(code);
    expect(out).not.toMatch(STRINGIFIED_GLUE);
    expect(out).not.toContain('wasmFactoryThreadedSimd.toString()');
    expect(out.startsWith("import __activelabThreadedGlueUrl from '../wasm-out/tfjs-backend-wasm-threaded-simd.js?url'; ")).toBe(true);
    expect(out).toContain('factoryConfig.mainScriptUrlOrBlob = new URL(__activelabThreadedGlueUrl, self.location.href).href;');
    // Only that statement changes, and the lines stay where they were.
    expect(out.split('\n').length).toBe(code.split('\n').length);
    // The asset it points at is the glue the pthread workers expect: it defines the factory as a global.
    const glue = await readFile(join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), 'utf8');
    expect(glue).toMatch(/^\s*var WasmBackendModuleThreadedSimd = /);
  });

  it('fails loudly when tfjs no longer has the statement it replaces', () => {
    expect(() => pointThreadsAtGlueAsset('export async function init() {}')).toThrow(/tfjs changed, so src\/backend\/wasm-threads-plugin\.ts must be updated/);
  });

  it('applies to the build only, and only to tfjs-backend-wasm\'s backend module', () => {
    const plugin = wasmThreadsPlugin();
    expect(plugin.apply).toBe('build');
    expect(BACKEND_MODULE.test(backendFile)).toBe(true);
    expect(BACKEND_MODULE.test('C:\\app\\node_modules\\@tensorflow\\tfjs-backend-wasm\\dist\\backend_wasm.js')).toBe(true);
    expect(BACKEND_MODULE.test(join(pkgDir, 'dist', 'index.js'))).toBe(false);
    const hook = plugin.transform as { filter: { id: RegExp }; handler: (code: string, id: string) => { code: string } | null };
    expect(hook.filter.id).toBe(BACKEND_MODULE);
    expect(hook.handler.call({} as never, 'whatever', join(pkgDir, 'dist', 'index.js'))).toBeNull();
  });
});
