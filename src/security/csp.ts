/**
 * The app's Content-Security-Policy, and the Vite plugin that delivers it.
 *
 * No inline script and no JS eval anywhere: script-src has neither 'unsafe-inline' nor
 * 'unsafe-eval'. What the policy does allow, and why:
 *  - 'wasm-unsafe-eval' (script-src): lets the page and the worker compile WebAssembly
 *    (tfjs-backend-wasm, and the `long` package tfjs-core imports, which tries a tiny wasm module
 *    at load). It is not JS eval: `eval`, `new Function` and string timers stay blocked.
 *  - blob: (script-src, worker-src): tfjs-backend-wasm's threaded build starts its pthread
 *    workers from a blob: URL and they importScripts() a blob: copy of the Emscripten glue. A
 *    blob: URL can only be minted by script already running in this origin, so this opens no
 *    door to injected markup.
 *  - style-src 'unsafe-inline': Vega's SVG and the views set style attributes; styles only,
 *    never script.
 *  - img-src data: blob: (the favicon is `data:,`; exported PNGs are data: URLs).
 *  - connect-src 'self' (the data files, the .wasm binaries); in dev also ws:/wss: for Vite's HMR.
 *  - Vega compiles its expressions with `new Function` unless told otherwise: the app parses
 *    specs with `{ast: true}` and runs them with vega-interpreter (src/app/views/curves.ts).
 *
 * Delivered twice, by `cspPlugin()`:
 *  - a `<meta http-equiv="Content-Security-Policy">` first in index.html's head (dev and build),
 *    so the policy travels with the static build to any host;
 *  - a `Content-Security-Policy` header on every response of `vite` (dev) and `vite preview`. A
 *    meta policy does not reach Web Workers (a worker takes its policy from its script's
 *    response), so the header is what puts the engine worker under the policy; it also carries
 *    `frame-ancestors`, which a meta policy cannot.
 */
import { resolve } from 'node:path';
import type { Plugin } from 'vite';

export type CspMode = 'dev' | 'build';

/** The directives, in order. `header` adds the ones only an HTTP header can carry. */
export function cspDirectives(mode: CspMode, opts: { header?: boolean } = {}): [string, string[]][] {
  const d: [string, string[]][] = [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", "'wasm-unsafe-eval'", 'blob:']],
    ['worker-src', ["'self'", 'blob:']],
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'data:', 'blob:']],
    ['font-src', ["'self'"]],
    ['connect-src', mode === 'dev' ? ["'self'", 'ws:', 'wss:'] : ["'self'"]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'self'"]],
    ['form-action', ["'self'"]],
  ];
  if (opts.header) d.push(['frame-ancestors', ["'self'"]]);
  return d;
}

/** The policy as one string: `default-src 'self'; script-src ...`. */
export function contentSecurityPolicy(mode: CspMode, opts: { header?: boolean } = {}): string {
  return cspDirectives(mode, opts).map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

/**
 * Puts the policy on the app: the meta tag into index.html, the header onto the dev and preview
 * servers. Inactive in Vitest's own servers (mode 'test'), whose browser runner injects inline
 * scripts; the app's end-to-end tests start real dev and preview servers, which have it.
 */
export function cspPlugin(): Plugin {
  let root = process.cwd();
  let mode: CspMode = 'build';
  return {
    name: 'activelab:csp',
    apply: (_config, env) => env.mode !== 'test',
    config: (_config, env) => {
      const dev = contentSecurityPolicy('dev', { header: true });
      const build = contentSecurityPolicy('build', { header: true });
      mode = env.command === 'serve' && !env.isPreview ? 'dev' : 'build';
      return {
        server: { headers: { 'Content-Security-Policy': dev } },
        preview: { headers: { 'Content-Security-Policy': build } },
      };
    },
    configResolved: (config) => {
      root = config.root;
    },
    transformIndexHtml: {
      order: 'post',
      handler: (_html, ctx) => {
        if (resolve(ctx.filename) !== resolve(root, 'index.html')) return undefined;
        return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy(mode) }, injectTo: 'head-prepend' }];
      },
    },
  };
}
