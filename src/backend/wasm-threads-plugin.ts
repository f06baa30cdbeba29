/**
 * Vite plugin (build only) that makes tfjs-backend-wasm's threaded SIMD binary work in the
 * production bundle. Node only (runs inside Vite).
 *
 * Why: each pthread worker of the threaded backend must load the Emscripten glue
 * (wasm-out/tfjs-backend-wasm-threaded-simd.js) again. tfjs 4.22 hands it over as a Blob of
 * `wasmFactoryThreadedSimd.toString()`: the source text of the factory function *as bundled*.
 * Unminified (the dev server's pre-bundle) that text is self-contained. The build's minifier
 * renames the glue's closure variable `_scriptDir` (to `e`) and, since it can see the variable is
 * declared, rewrites the factory's guard `typeof _scriptDir !== "undefined" && _scriptDir` into
 * `e !== void 0 && e`. Out of its closure, in the pthread worker, that throws
 * "ReferenceError: e is not defined" and the whole wasm backend dies with it.
 *
 * The fix, at the root: the glue is emitted as the unbundled, unminified asset Emscripten expects
 * (a `?url` import, copied byte for byte), and `mainScriptUrlOrBlob` is that asset's absolute
 * URL, which the pthread workers `importScripts()` (same origin: allowed by `script-src 'self'`
 * and by COEP). The function in the bundle is no longer stringified anywhere.
 *
 * The replaced statement is matched exactly; if a tfjs upgrade changes it, the build fails with a
 * message instead of shipping a backend that crashes.
 */
import type { Plugin } from 'vite';

/** The module of tfjs-backend-wasm that starts the threaded binary. */
export const BACKEND_MODULE = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;

/** tfjs 4.22's statement that stringifies the bundled factory for the pthread workers. */
export const STRINGIFIED_GLUE =
  /factoryConfig\.mainScriptUrlOrBlob = new Blob\(\[`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)\], \{ type: 'text\/javascript' \}\);/;

/** The glue, imported as an emitted asset URL (relative to backend_wasm.js, as tfjs imports it). */
const GLUE_URL_IMPORT = "import __activelabThreadedGlueUrl from '../wasm-out/tfjs-backend-wasm-threaded-simd.js?url';";
/** Absolute: the pthread workers run from blob: URLs, against which a path cannot be resolved. */
const GLUE_URL_ASSIGNMENT = 'factoryConfig.mainScriptUrlOrBlob = new URL(__activelabThreadedGlueUrl, self.location.href).href;';

/** Rewrites backend_wasm.js's source; throws if the statement to replace is not there. */
export function pointThreadsAtGlueAsset(code: string): string {
  if (!STRINGIFIED_GLUE.test(code)) {
    throw new Error(
      'tfjs-backend-wasm: the statement that hands the pthread workers a stringified copy of the glue ' +
        '(factoryConfig.mainScriptUrlOrBlob = new Blob([... wasmFactoryThreadedSimd.toString()])) was not found in ' +
        'dist/backend_wasm.js; tfjs changed, so src/backend/wasm-threads-plugin.ts must be updated',
    );
  }
  // The import goes on the first line and the statement keeps its line breaks, so every other
  // line stays where it was.
  const replaced = code.replace(STRINGIFIED_GLUE, (statement) => GLUE_URL_ASSIGNMENT + statement.replace(/[^\n]/g, ''));
  return `${GLUE_URL_IMPORT} ${replaced}`;
}

/**
 * Use in `plugins` (the page's fallback chunk) and in `worker.plugins` (the engine worker, which
 * Vite bundles separately). Build only: the dev server's pre-bundled tfjs is not minified, and
 * its stringified factory works as it is.
 */
export function wasmThreadsPlugin(): Plugin {
  return {
    name: 'activelab:wasm-threads',
    apply: 'build',
    transform: {
      filter: { id: BACKEND_MODULE },
      handler(code, id) {
        if (!BACKEND_MODULE.test(id.split('?')[0]!)) return null;
        try {
          return { code: pointThreadsAtGlueAsset(code), map: null };
        } catch (err) {
          this.error(err instanceof Error ? err.message : String(err));
        }
      },
    },
  };
}
