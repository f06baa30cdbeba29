/**
 * `npm run soak [-- --rounds 200 --backend wasm]`: a long run on a small setup, watching that
 * tensors, bytes and the process's memory stay flat round after round. Prints a summary and
 * exits non-zero if the tensor count or bytes grow after the first rounds.
 */
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../datasets/index.ts';
import { useBackend, type BackendName } from '../src/backend/index.ts';
import { resolveConfig, runExperiment } from '../src/engine/index.ts';
import { accuracyText } from '../src/engine/results.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const rounds = Number(flag('--rounds', '200'));
const backend = flag('--backend', 'wasm') as BackendName;

await useBackend(backend);
const config = resolveConfig({
  dataset: 'moons', model: 'mlp', strategies: ['bald'], initial: 10, query: 2, rounds,
  epochs: 2, batchSize: 16, mcSamples: 5, poolSubset: 200, testSubset: null, seed: 1,
});
const ds = await loadDataset('moons', { seed: 1, params: { n: 2000 } });
const samples: { round: number; tensors: number; bytes: number; heapMB: number; rssMB: number }[] = [];
const t0 = performance.now();
const results = await runExperiment(config, ds, {
  onEvent: (e) => {
    if (e.type !== 'round') return;
    // Collect garbage first (the soak script runs with --expose-gc) so heap figures are live data.
    (globalThis as { gc?: () => void }).gc?.();
    const m = tf.memory();
    const mem = process.memoryUsage();
    samples.push({ round: e.record.round, tensors: m.numTensors, bytes: m.numBytes, heapMB: mem.heapUsed / 2 ** 20, rssMB: mem.rss / 2 ** 20 });
    if (e.record.round % 25 === 0) {
      process.stdout.write(`round ${String(e.record.round).padStart(4)}: ${m.numTensors} tensors, ${m.numBytes} bytes, heap ${(mem.heapUsed / 2 ** 20).toFixed(1)} MB, rss ${(mem.rss / 2 ** 20).toFixed(1)} MB, accuracy ${accuracyText(e.record.accuracy)}\n`);
    }
  },
});
const after = samples.filter((s) => s.round >= 2);
const first = after[0]!, last = after[after.length - 1]!;
const grewTensors = after.some((s) => s.tensors !== first.tensors);
const grewBytes = after.some((s) => s.bytes !== first.bytes);
console.log(`\n${results.status}: ${samples.length} rounds on ${backend} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`tensors: ${first.tensors} at round 2, ${last.tensors} at round ${last.round} (${grewTensors ? 'CHANGED' : 'flat'})`);
console.log(`tensor bytes: ${first.bytes} at round 2, ${last.bytes} at round ${last.round} (${grewBytes ? 'CHANGED' : 'flat'})`);
console.log(`JS heap: ${first.heapMB.toFixed(1)} MB at round 2, ${last.heapMB.toFixed(1)} MB at round ${last.round}; max ${Math.max(...after.map((s) => s.heapMB)).toFixed(1)} MB`);
console.log(`RSS: ${first.rssMB.toFixed(1)} MB at round 2, ${last.rssMB.toFixed(1)} MB at round ${last.round}; max ${Math.max(...after.map((s) => s.rssMB)).toFixed(1)} MB`);
process.exit(grewTensors || grewBytes ? 1 : 0);
