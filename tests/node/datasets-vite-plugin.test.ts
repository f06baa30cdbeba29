import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classCounts, DATA_FILES, DataFileError, fetchSource, loadDataset, MNIST_FILES } from '../../datasets/index.ts';
import { prepareDatasets } from '../../datasets/prepare.ts';
import { resolveDataFile } from '../../datasets/source-node.ts';
import { dataMiddleware, datasetsPlugin, type MiddlewareResponse } from '../../datasets/vite-plugin.ts';

type Handler = (req: { url?: string; method?: string }, res: MiddlewareResponse, next: (err?: unknown) => void) => unknown;

interface Result {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
  nextCalled: boolean;
}

/** Call a connect-style middleware with fake req/res and collect what it sent. */
async function call(handler: Handler, url: string, method = 'GET'): Promise<Result> {
  const headers: Record<string, string> = {};
  let body = new Uint8Array(0);
  let nextCalled = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const res = {
    statusCode: 200,
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
      return this;
    },
    end(chunk?: unknown) {
      if (chunk instanceof Uint8Array) body = new Uint8Array(chunk);
      else if (typeof chunk === 'string') body = new TextEncoder().encode(chunk);
      done();
      return this;
    },
  };
  await handler({ url, method }, res as unknown as MiddlewareResponse, () => {
    nextCalled = true;
    done();
  });
  await finished;
  return { status: res.statusCode, headers, body, nextCalled };
}

const MNIST_NAMES = Object.values(MNIST_FILES);
const text = (r: Result) => new TextDecoder().decode(r.body);

describe('dataMiddleware', () => {
  const mw = dataMiddleware();

  it('serves a whitelisted file as application/octet-stream with its length', async () => {
    const r = await call(mw, '/data/mnist/t10k-labels-idx1-ubyte?v=1');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['content-length']).toBe('10008');
    expect(r.body.length).toBe(10008);
    expect(Array.from(r.body.subarray(0, 4))).toEqual([0, 0, 8, 1]);
    const disk = await readFile(resolveDataFile('mnist/t10k-labels-idx1-ubyte'));
    expect(Buffer.from(r.body).equals(disk)).toBe(true);
  });

  it('answers HEAD with the headers only', async () => {
    const r = await call(mw, '/data/mnist/train-labels-idx1-ubyte', 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('60008');
    expect(r.body.length).toBe(0);
  });

  it('404s an unknown name', async () => {
    for (const url of ['/data/nope', '/data/mnist/', '/data/mnist/train-images-idx3-ubyte.gz', '/data/']) {
      const r = await call(mw, url);
      expect(r.status, url).toBe(404);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.nextCalled).toBe(false);
    }
    expect(text(await call(mw, '/data/nope'))).toMatch(/^unknown data file 'nope'; known: mnist\/train-images-idx3-ubyte, /);
  });

  it('refuses ../ (plain or encoded) and other odd names', async () => {
    for (const url of [
      '/data/../package.json',
      '/data/..%2F..%2Fpackage.json',
      '/data/mnist/..%2f..%2fpackage.json',
      '/data/%2e%2e/%2e%2e/etc/passwd',
      '/data/mnist%5c..%5cpackage.json',
      '/data//etc/passwd',
      '/data/%E0%A4%A',
    ]) {
      const r = await call(mw, url);
      expect(r.status, url).toBe(400);
      expect(text(r)).toBe('bad data file name\n');
    }
  });

  it('passes other URLs on, refuses other methods', async () => {
    expect((await call(mw, '/src/main.ts')).nextCalled).toBe(true);
    expect((await call(mw, '/database')).nextCalled).toBe(true);
    const r = await call(mw, '/data/mnist/t10k-labels-idx1-ubyte', 'POST');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it('404s a missing prepared file with the prepare command when autoPrepare is off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'activelab-plugin-'));
    try {
      const r = await call(dataMiddleware({ cacheDir: dir, autoPrepare: false }), '/data/fashion-mnist/t10k-labels-idx1-ubyte');
      expect(r.status).toBe(404);
      expect(text(r)).toMatch(/not on disk; build it with `node --import tsx datasets\/prepare.ts`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('datasetsPlugin', () => {
  it('installs the middleware under <base>data/ in configureServer', async () => {
    const plugin = datasetsPlugin();
    expect(plugin.name).toBe('activelab:datasets');
    const used: Handler[] = [];
    (plugin.configResolved as (c: unknown) => void)({ base: '/app/' });
    (plugin.configureServer as (s: unknown) => void)({ middlewares: { use: (fn: Handler) => used.push(fn) } });
    expect(used).toHaveLength(1);
    const r = await call(used[0]!, '/app/data/mnist/t10k-labels-idx1-ubyte');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(10008);
    expect((await call(used[0]!, '/data/mnist/t10k-labels-idx1-ubyte')).nextCalled).toBe(true);
  });

  function bundleContext() {
    const emitted: { type: string; fileName: string; size: number }[] = [];
    const ctx = {
      emitFile: (f: { type: string; fileName: string; source: Uint8Array }) => {
        emitted.push({ type: f.type, fileName: f.fileName, size: f.source.length });
        return 'ref';
      },
      error: (msg: string): never => {
        throw new Error(msg);
      },
    };
    return { emitted, ctx };
  }

  it('emits every whitelisted file as a data/<name> asset in generateBundle', async () => {
    await prepareDatasets(); // fast when the cache exists
    const { emitted, ctx } = bundleContext();
    await (datasetsPlugin().generateBundle as (this: unknown) => Promise<void>).call(ctx);
    expect(emitted).toEqual(
      DATA_FILES.map((name) => ({
        type: 'asset',
        fileName: `data/${name}`,
        size: name.includes('train-images') ? 47_040_016 : name.includes('t10k-images') ? 7_840_016 : name.includes('train-labels') ? 60_008 : 10_008,
      })),
    );
  });

  it('fails the build naming the prepare command when a prepared file is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'activelab-plugin-'));
    try {
      const { emitted, ctx } = bundleContext();
      const plugin = datasetsPlugin({ cacheDir: dir, autoPrepare: false });
      await expect((plugin.generateBundle as (this: unknown) => Promise<void>).call(ctx)).rejects.toThrow(
        /^datasets: cannot emit data\/fashion-mnist\/train-images-idx3-ubyte: .*\(run `node --import tsx datasets\/prepare.ts`\)$/,
      );
      expect(emitted.map((e) => e.fileName)).toEqual(MNIST_NAMES.map((n) => `data/${n}`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fetchSource', () => {
  /** A fetch that answers through the plugin middleware, like the dev server would. */
  const viaMiddleware: typeof fetch = async (input) => {
    const r = await call(dataMiddleware(), String(input));
    if (r.nextCalled) return new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } });
    return new Response(r.body, { status: r.status, headers: r.headers });
  };

  it('loads MNIST over "HTTP" through the same parser', async () => {
    const ds = await loadDataset('mnist', { source: fetchSource('/data', { fetch: viaMiddleware }) });
    expect(ds.train.n).toBe(60_000);
    expect(ds.test.y[0]).toBe(7);
    expect(classCounts(ds.test, 10).reduce((a, b) => a + b)).toBe(10_000);
  });

  it('names the file on HTTP errors and on an HTML fallback page', async () => {
    const notFound: typeof fetch = async () => new Response('no', { status: 404, statusText: 'Not Found' });
    await expect(fetchSource('/data/', { fetch: notFound }).read('mnist/t10k-labels-idx1-ubyte')).rejects.toThrow(
      'mnist/t10k-labels-idx1-ubyte: fetch /data/mnist/t10k-labels-idx1-ubyte: expected HTTP 200, found 404 Not Found',
    );
    const html: typeof fetch = async () => new Response('<html>', { headers: { 'content-type': 'text/html' } });
    const err = await fetchSource('/x/', { fetch: html }).read('mnist/t10k-labels-idx1-ubyte').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toMatch(/expected binary data, found text\/html .*datasetsPlugin/);
    await expect(fetchSource('/data/', { fetch: html }).read('../secret' as never)).rejects.toThrow('not a known data file');
  });
});
