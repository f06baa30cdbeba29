/**
 * Browser `DataSource`: fetches `<baseUrl><name>`, e.g. `/data/mnist/train-images-idx3-ubyte`,
 * which `datasetsPlugin()` serves in dev and emits into the build. Works wherever `fetch` does.
 */
import type { DataFileName, DataSource } from './files.ts';
import { isDataFileName } from './files.ts';
import { DataFileError } from './idx.ts';

export interface FetchSourceOptions {
  /** Injected fetch (tests, workers with a custom fetch); default the global one. */
  fetch?: typeof fetch;
  /** Passed to every request (e.g. an AbortSignal, or `cache: 'force-cache'`). */
  init?: RequestInit;
}

/** @param baseUrl where the data files are served; default `/data/` (a trailing slash is added if missing). */
export function fetchSource(baseUrl = '/data/', opts: FetchSourceOptions = {}): DataSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    async read(name: DataFileName): Promise<Uint8Array> {
      if (!isDataFileName(name)) throw new DataFileError(String(name), 'not a known data file');
      const url = `${base}${name}`;
      const doFetch = opts.fetch ?? fetch;
      let res: Response;
      try {
        res = await doFetch(url, opts.init);
      } catch (err) {
        throw new DataFileError(name, `fetch ${url} failed: ${(err as Error).message}`, { cause: err });
      }
      if (!res.ok) {
        throw new DataFileError(name, `fetch ${url}: expected HTTP 200, found ${res.status} ${res.statusText}`.trimEnd());
      }
      const type = res.headers.get('content-type') ?? '';
      if (type.includes('text/html')) {
        // Vite's SPA fallback answers unknown paths with index.html and a 200.
        throw new DataFileError(
          name,
          `fetch ${url}: expected binary data, found ${type} (is datasetsPlugin() in the Vite config?)`,
        );
      }
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}
