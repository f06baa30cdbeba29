/**
 * The page's side of the compute host. Prefers a module Web Worker (tfjs WebGL on an
 * OffscreenCanvas); falls back to running the same host on the page when workers are missing,
 * fail to start, or have no WebGL. Only the fallback imports tfjs into the page, lazily.
 * A worker that crashes is restarted by the RestartPolicy (restart-policy.ts): a few times, each
 * after a longer delay, then not until the user goes on.
 */
import type { FromHost, ToHost } from './protocol.ts';
import { RestartPolicy, type CrashDecision } from './restart-policy.ts';

export type Thread = 'worker' | 'page';

export interface ClientHandlers {
  onMessage(msg: FromHost): void;
  /**
   * The worker died (uncaught error): it is gone. `next` says whether a new one starts by itself
   * (and when), or whether the restarts are spent; either way the next `ensure()` starts one.
   */
  onCrash(message: string, next: CrashDecision): void;
  /** A scheduled restart is done: the new host is ready, or it could not start. */
  onRestarted(result: { ready: Ready } | { error: string }): void;
}

export interface Ready {
  thread: Thread;
  /** Why the host runs on the page instead of a worker (null when in a worker). */
  fallbackReason: string | null;
}

const DATA_BASE = `${import.meta.env.BASE_URL}data/`;

export class EngineClient {
  private worker: Worker | null = null;
  private pageHandle: ((msg: ToHost) => void) | null = null;
  private readyPromise: Promise<Ready> | null = null;
  thread: Thread = 'worker';
  readonly restarts: RestartPolicy;
  /** Diagnostics (tests): every new worker is told to crash as soon as it is ready. */
  crashEveryStart = false;

  constructor(
    private readonly handlers: ClientHandlers,
    private readonly opts: { forcePage: boolean },
  ) {
    this.restarts = new RestartPolicy(() => {
      this.ensure().then(
        (ready) => this.handlers.onRestarted({ ready }),
        (err: unknown) => this.handlers.onRestarted({ error: err instanceof Error ? err.message : String(err) }),
      );
    });
  }

  /** The restarts after crashes are spent and no host is up or starting: only the user starts one now. */
  get stopped(): boolean {
    return !this.worker && !this.pageHandle && !this.readyPromise && this.restarts.crashesInARow > this.restarts.limit;
  }

  /** Starts the host if none is running; resolves when it is ready for messages. */
  ensure(): Promise<Ready> {
    this.readyPromise ??= this.start().catch((err: unknown) => {
      this.readyPromise = null;
      throw err;
    });
    return this.readyPromise;
  }

  send(msg: ToHost): void {
    if (this.worker) this.worker.postMessage(msg);
    else if (this.pageHandle) {
      const handle = this.pageHandle;
      queueMicrotask(() => handle(msg));
    }
  }

  private async start(): Promise<Ready> {
    if (this.opts.forcePage) return this.startOnPage('the link asked for thread=page');
    if (typeof Worker === 'undefined') return this.startOnPage('this browser has no Web Workers');
    let worker: Worker;
    try {
      worker = new Worker(new URL('./host/worker.ts', import.meta.url), { type: 'module', name: 'activelab-engine' });
    } catch (err) {
      return this.startOnPage(`the worker could not start (${err instanceof Error ? err.message : String(err)})`);
    }
    const first = await new Promise<{ ok: true; msg: Extract<FromHost, { type: 'ready' }> } | { ok: false; reason: string }>((resolve) => {
      const onMessage = (e: MessageEvent<FromHost>) => {
        if (e.data.type !== 'ready') return;
        cleanup();
        resolve({ ok: true, msg: e.data });
      };
      const onError = (e: ErrorEvent) => {
        e.preventDefault();
        cleanup();
        resolve({ ok: false, reason: `the worker failed to load (${e.message || 'module workers unsupported?'})` });
      };
      const cleanup = () => {
        worker.removeEventListener('message', onMessage);
        worker.removeEventListener('error', onError);
      };
      worker.addEventListener('message', onMessage);
      worker.addEventListener('error', onError);
    });
    if (!first.ok) {
      worker.terminate();
      return this.startOnPage(first.reason);
    }
    if (first.msg.offscreenWebgl === false) {
      worker.terminate();
      return this.startOnPage('this browser has no WebGL in workers (OffscreenCanvas)');
    }
    this.worker = worker;
    this.thread = 'worker';
    if (this.crashEveryStart) worker.postMessage({ type: 'crash' } satisfies ToHost);
    worker.addEventListener('message', (e: MessageEvent<FromHost>) => this.handlers.onMessage(e.data));
    worker.addEventListener('messageerror', () => this.crashed(worker, 'a message from the worker could not be read'));
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      this.crashed(worker, e.message || 'unknown error');
    });
    return { thread: 'worker', fallbackReason: null };
  }

  private async startOnPage(reason: string): Promise<Ready> {
    // The fallback: the only place the page imports tfjs.
    const { createEngineHost } = await import('./host/engine-host.ts');
    let ready = false;
    const handle = createEngineHost((msg) => {
      if (msg.type === 'ready') ready = true;
      else queueMicrotask(() => this.handlers.onMessage(msg));
    }, DATA_BASE);
    if (!ready) throw new Error('the engine host did not say it is ready');
    this.pageHandle = handle;
    this.thread = 'page';
    return { thread: 'page', fallbackReason: reason };
  }

  private crashed(worker: Worker, message: string): void {
    // One crash per worker: a second error from a worker already given up on is not news.
    if (this.worker !== worker) return;
    worker.terminate();
    this.worker = null;
    this.readyPromise = null;
    this.handlers.onCrash(message, this.restarts.crashed());
  }
}
