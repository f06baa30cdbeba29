/**
 * A worker process of `npm run experiment -- --jobs N` (forked by `sweep.ts`, talking over the
 * IPC channel). It sets up the backend and dataset once, then runs the cells it is sent one at a
 * time, reporting each completed round and waiting for the parent's acknowledgement (the round is
 * in the journal) before the next round starts. A stop message, SIGINT, SIGTERM or SIGHUP stops
 * the cell after its current step; losing the parent (the channel closes) ends the process.
 * With `--save-models` it writes each finished run's final model itself and reports the folders
 * (or the failures) with the cell's end.
 */
import { CellRunner } from './cell-runner.ts';
import type { ToWorker, FromWorker } from './sweep.ts';

if (!process.send) {
  console.error('sweep-worker.ts is started by `npm run experiment -- --jobs N`, not by hand');
  process.exit(2);
}

const send = (m: FromWorker) => process.send!(m);
let runner: CellRunner | null = null;
const ctrl = new AbortController();
let stopped = false;
let busy = false;
let ack: (() => void) | null = null;

const stop = () => {
  stopped = true;
  ctrl.abort();
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, stop);
// The parent closed the channel: when idle that is the end of the work; mid-cell, the parent is gone.
process.on('disconnect', () => process.exit(busy ? 1 : 0));

process.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      CellRunner.open(m.config, m.models === null ? null : { folder: m.models }, m.dataset).then(
        (r) => {
          runner = r;
          send({ type: 'ready', environment: r.environment, memory: r.memory() });
        },
        (err: unknown) => send({ type: 'init-error', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
      );
      break;
    case 'run': {
      if (!runner) throw new Error('run before ready');
      if (stopped) ctrl.abort();
      const r = runner;
      busy = true;
      void r
        .run(m.cell, m.prior, ctrl.signal, {
          round: (record) =>
            new Promise<void>((resolve) => {
              ack = resolve;
              send({ type: 'round', record, memory: r.memory() });
            }),
          event: (event) => send({ type: 'event', event }),
        })
        .then((run) => {
          busy = false;
          send({ type: 'done', run, memory: r.memory(), models: r.takeModels() });
        });
      break;
    }
    case 'ack':
      ack?.();
      ack = null;
      break;
    case 'stop':
      stop();
      break;
  }
});
