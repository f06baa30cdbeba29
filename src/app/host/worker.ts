/**
 * The compute worker: tfjs (WebGL on an OffscreenCanvas where the browser has one), the dataset
 * and the engine live here, so the page's main thread only draws. See engine-host.ts.
 */
import './csp-report.ts';
import { createEngineHost } from './engine-host.ts';
import type { FromHost, ToHost } from '../protocol.ts';

/** The parts of DedicatedWorkerGlobalScope used here (the project's lib has no WebWorker types). */
interface WorkerScope {
  postMessage(message: FromHost, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<ToHost>) => void): void;
}

const scope = self as unknown as WorkerScope;
const handle = createEngineHost((msg, transfer = []) => scope.postMessage(msg, transfer), `${import.meta.env.BASE_URL}data/`);
scope.addEventListener('message', (e) => handle(e.data));
