/**
 * Vite plugin that makes the whitelisted data files available to the browser at
 * `<base>data/<name>` (e.g. `/data/mnist/train-images-idx3-ubyte`), from the same Node locations
 * `nodeSource()` reads:
 *  - dev server (`configureServer`): a small middleware serves them as
 *    `application/octet-stream` (Vite would otherwise treat extension-less files as JS modules);
 *  - build (`generateBundle`): emits each as an asset `data/<name>`, so `vite preview` and any
 *    static host serve them too.
 * Only the fixed whitelist in files.ts is served; anything else under the prefix is a 404 and
 * names with `..`, backslashes or NULs are a 400. If a prepared file (Fashion-MNIST) is missing,
 * the plugin runs the prepare step once (disable with `autoPrepare: false`).
 *
 * Wire it in vite.config.ts with `plugins: [datasetsPlugin()]`.
 * Node only (runs inside Vite).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';
import type { DataFileName } from './files.ts';
import { DATA_FILES, isDataFileName } from './files.ts';
import { isPreparedFile, PREPARE_COMMAND, resolveDataFile } from './source-node.ts';

export interface DatasetsPluginOptions {
  /** Cache directory of the prepared files; default `<project>/.cache/datasets`. */
  cacheDir?: string;
  /** Run the prepare step when a prepared file is missing; default true. */
  autoPrepare?: boolean;
}

export interface DataMiddlewareOptions extends DatasetsPluginOptions {
  /** URL prefix the files are served under; default `/data/` (the plugin uses `<config.base>data/`). */
  prefix?: string;
}

/** The parts of Node's req/res the middleware uses (so tests can pass small fakes). */
export type MiddlewareRequest = Pick<IncomingMessage, 'url' | 'method'>;
export type MiddlewareResponse = Pick<ServerResponse, 'statusCode' | 'setHeader' | 'end'>;

function makePrepareOnce(opts: DatasetsPluginOptions): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => {
    pending ??= import('./prepare.ts')
      .then(({ prepareDatasets }) =>
        prepareDatasets(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }),
      )
      .then(() => undefined);
    return pending;
  };
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Read a whitelisted file from disk, preparing the cache once if it is a missing prepared file. */
async function readDataFile(name: DataFileName, opts: DatasetsPluginOptions, prepareOnce: () => Promise<void>): Promise<Uint8Array> {
  const path = resolveDataFile(name, opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir });
  try {
    return await readFile(path);
  } catch (err) {
    if (!isMissing(err) || !isPreparedFile(name) || opts.autoPrepare === false) throw err;
  }
  await prepareOnce();
  return await readFile(path);
}

function sendText(res: MiddlewareResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}

/**
 * Connect-style middleware serving the whitelisted data files under `prefix`. Requests outside
 * the prefix go to `next()`.
 */
export function dataMiddleware(
  opts: DataMiddlewareOptions = {},
): (req: MiddlewareRequest, res: MiddlewareResponse, next: (err?: unknown) => void) => Promise<void> {
  const prefix = opts.prefix ?? '/data/';
  const prepareOnce = makePrepareOnce(opts);
  return async (req, res, next) => {
    const path = (req.url ?? '').split(/[?#]/, 1)[0] ?? '';
    if (!path.startsWith(prefix)) {
      next();
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(path.slice(prefix.length));
    } catch {
      sendText(res, 400, 'bad data file name');
      return;
    }
    if (name.includes('..') || name.includes('\\') || name.includes('\0') || name.startsWith('/')) {
      sendText(res, 400, 'bad data file name');
      return;
    }
    if (!isDataFileName(name)) {
      sendText(res, 404, `unknown data file '${name}'; known: ${DATA_FILES.join(', ')}`);
      return;
    }
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendText(res, 405, `method ${method} not allowed`);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = await readDataFile(name, opts, prepareOnce);
    } catch (err) {
      if (isMissing(err)) {
        const hint = isPreparedFile(name) ? `; build it with \`${PREPARE_COMMAND}\`` : '';
        sendText(res, 404, `data file '${name}' is not on disk${hint}`);
      } else {
        sendText(res, 500, `data file '${name}' could not be read: ${(err as Error).message}`);
      }
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(bytes.byteLength));
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (method === 'HEAD') res.end();
    else res.end(bytes);
  };
}

export function datasetsPlugin(opts: DatasetsPluginOptions = {}): Plugin {
  let base = '/';
  const prepareOnce = makePrepareOnce(opts);
  return {
    name: 'activelab:datasets',
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : `${config.base}/`;
    },
    configureServer(server) {
      // Runs before Vite's own middlewares, so /data/* never reaches the module pipeline.
      const handler = dataMiddleware({ ...opts, prefix: `${base}data/` });
      server.middlewares.use((req, res, next) => {
        handler(req, res, next).catch(next);
      });
    },
    async generateBundle() {
      for (const name of DATA_FILES) {
        let source: Uint8Array;
        try {
          source = await readDataFile(name, opts, prepareOnce);
        } catch (err) {
          const hint = isPreparedFile(name) ? ` (run \`${PREPARE_COMMAND}\`)` : '';
          this.error(`datasets: cannot emit data/${name}: ${(err as Error).message}${hint}`);
        }
        this.emitFile({ type: 'asset', fileName: `data/${name}`, source });
      }
    },
  };
}
