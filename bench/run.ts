/**
 * `npm run bench [-- --quick] [-- --node-only | --browser-only] [-- --suites kernels,predict,train,round,soak,sweep,torch]`
 * `npm run bench -- --node-only --backends wasm --suites train,predict,torch`: wasm against the PyTorch peer (~10 min).
 *   The torch suite also runs training epochs in turn, wasm then PyTorch at one thread (`torch_peer.py --serve`): the judged comparison.
 * `npm run bench -- --node-only --suites sweep`: only the sweep (--jobs 1 vs --jobs 2); it updates its own section of docs/benchmarks.md.
 * `npm run bench -- --report-only`: rebuild docs/benchmarks.md from the saved results, measuring nothing.
 * `npm run bench -- --node-only --backends wasm --suites train`: only some of Node's backends (wasm, cpu).
 * `npm run bench -- --browser-only --page-backends webgpu --suites predict,train`: only some of the page's backends (webgl, webgpu, wasm).
 *
 * Runs the benchmark suites in Node (wasm, cpu) and in Debian's Chromium (webgl through
 * SwiftShader here, wasm) and writes bench/results/<suite>.json (kernels.json keeps its format:
 * an array of {backend, measure, n, c, k, tensorizedMs, perRowMs, ..., where}) plus machine.json.
 * After a complete run (every suite, both places) it rewrites the generated section of
 * docs/benchmarks.md. Exits 1 if a suite failed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createServer } from 'vite';
import { chromium } from 'playwright';
import { loadDataset, type Dataset } from '../datasets/index.ts';
import { nodeSource } from '../datasets/source-node.ts';
import { backendInfo, useBackend } from '../src/backend/index.ts';
import { CHROMIUM_ARGS, WEBGPU_ARGS, chromiumPath } from '../vite.config.ts';
import type { PageResult } from './browser-entry.ts';
import { SUITES, sweepPlan, type SuiteName, type Where } from './plan.ts';
import { renderReport, renderSweepReport, spliceReport, evaluateTargets, sweepTarget, SWEEP_BEGIN_MARKER, SWEEP_END_MARKER, type BenchData, type Machine } from './report.ts';
import { benchSweep, type SweepBenchRecord } from './sweep-bench.ts';
import { EPOCH_BATCH, EPOCH_IMAGES, INTERLEAVED_EPOCHS, findTorchPython, interleavedEpochs, interleavedRatio, runTorchPeer, torchRatios, type TorchPeerRecord } from './torch-peer.ts';
import { epochRunner } from './model-bench.ts';
import { mean, max as maxOf, min as minOf } from './stats.ts';
import { runSuites, type SuiteError } from './suites.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const args = new Set(argv);
const quick = args.has('--quick');
const nodeOnly = args.has('--node-only');
const browserOnly = args.has('--browser-only');
const suitesArg = (() => {
  const i = argv.findIndex((a) => a === '--suites' || a.startsWith('--suites='));
  if (i < 0) return null;
  const v = argv[i]!.includes('=') ? argv[i]!.split('=')[1]! : argv[i + 1] ?? '';
  return v.split(',').filter(Boolean);
})();
const unknown = (suitesArg ?? []).filter((s) => !(SUITES as readonly string[]).includes(s));
if (unknown.length) {
  console.error(`unknown suite(s) ${unknown.join(', ')}; known: ${SUITES.join(', ')}`);
  process.exit(2);
}
const only = new Set<SuiteName>((suitesArg as SuiteName[] | null) ?? SUITES);
const NODE_BACKENDS = ['wasm', 'cpu'] as const;
const backendsArg = (() => {
  const i = argv.findIndex((a) => a === '--backends' || a.startsWith('--backends='));
  if (i < 0) return null;
  const v = argv[i]!.includes('=') ? argv[i]!.split('=')[1]! : argv[i + 1] ?? '';
  return v.split(',').filter(Boolean);
})();
const unknownBackends = (backendsArg ?? []).filter((b) => !(NODE_BACKENDS as readonly string[]).includes(b));
if (unknownBackends.length || backendsArg?.length === 0) {
  console.error(`--backends: unknown or missing backend(s) ${unknownBackends.join(', ')}; known in Node: ${NODE_BACKENDS.join(', ')}`);
  process.exit(2);
}
/** Node's backends to run (`--backends`, default both). */
const nodeBackends = NODE_BACKENDS.filter((b) => backendsArg === null || backendsArg.includes(b));
/** The page's backends (`--page-backends webgpu,wasm`); by default webgl, webgpu (where the browser has it) and wasm. */
const PAGE_BACKENDS = ['webgl', 'webgpu', 'wasm'] as const;
const pageBackends = (() => {
  const i = argv.findIndex((a) => a === '--page-backends' || a.startsWith('--page-backends='));
  if (i < 0) return null;
  const v = (argv[i]!.includes('=') ? argv[i]!.split('=')[1]! : argv[i + 1] ?? '').split(',').filter(Boolean);
  const bad = v.filter((b) => !(PAGE_BACKENDS as readonly string[]).includes(b));
  if (bad.length || v.length === 0) {
    console.error(`--page-backends: unknown or missing backend(s) ${bad.join(', ')}; known in the page: ${PAGE_BACKENDS.join(', ')}`);
    process.exit(2);
  }
  return v;
})();
const complete = only.size === SUITES.length && !nodeOnly && !browserOnly && nodeBackends.length === NODE_BACKENDS.length && pageBackends === null;
const outDir = join(root, 'bench/results');
const docPath = join(root, 'docs/benchmarks.md');

/** Rewrites the generated section of docs/benchmarks.md from `data`. */
function writeDoc(data: BenchData): void {
  mkdirSync(dirname(docPath), { recursive: true });
  const existing = existsSync(docPath) ? readFileSync(docPath, 'utf8') : null;
  writeFileSync(docPath, spliceReport(existing, renderReport(data), '# Benchmarks\n'));
  console.log('wrote docs/benchmarks.md');
}

/** Rewrites the sweep's own section of docs/benchmarks.md (it carries its own machine line, so a partial run may). */
function writeSweepDoc(record: SweepBenchRecord): void {
  const existing = existsSync(docPath) ? readFileSync(docPath, 'utf8') : null;
  writeFileSync(docPath, spliceReport(existing, renderSweepReport(record), '# Benchmarks\n', [SWEEP_BEGIN_MARKER, SWEEP_END_MARKER]));
  console.log('wrote the sweep section of docs/benchmarks.md');
}

// `--report-only`: rebuild the page from bench/results/*.json without measuring anything.
if (args.has('--report-only')) {
  const read = <T>(name: string): T => JSON.parse(readFileSync(join(outDir, name), 'utf8')) as T;
  const saved: BenchData = {
    machine: read('machine.json'), kernels: read('kernels.json'), predict: read('predict.json'),
    train: read('train.json'), round: read('round.json'), soak: read('soak.json'),
    torch: existsSync(join(outDir, 'torch.json')) ? read<TorchPeerRecord>('torch.json') : null,
  };
  for (const t of evaluateTargets(saved)) console.log(`[${t.verdict}] ${t.target}`);
  writeDoc(saved);
  if (existsSync(join(outDir, 'sweep.json'))) writeSweepDoc(read<SweepBenchRecord>('sweep.json'));
  process.exit(0);
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

// Load average: sampled every 15 s for the report (the machine is shared).
const procLoad = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return loadavg().map((x) => x.toFixed(2)).join(' ');
  }
};
const loadStart = procLoad();
const loadSamples: number[] = [loadavg()[0]!];
const sampler = setInterval(() => loadSamples.push(loadavg()[0]!), 15_000);
sampler.unref();
const t0 = performance.now();

type At<T> = T & { where: Where };
const data: Omit<BenchData, 'machine'> = { kernels: [], predict: [], train: [], round: [], soak: [] };
const errors: SuiteError[] = [];
let nodeWasm: Machine['nodeWasm'] = null;
let page: Machine['page'] = null;
let chromiumVersion: string | null = null;

function collect(where: Where, r: { kernels: object[]; predict: object[]; train: object[]; round: object[]; soak: object[] }): void {
  const tag = <T extends object>(xs: T[]) => xs.map((x) => ({ ...x, where })) as At<T>[];
  data.kernels.push(...(tag(r.kernels) as BenchData['kernels']));
  data.predict.push(...(tag(r.predict) as BenchData['predict']));
  data.train.push(...(tag(r.train) as BenchData['train']));
  data.round.push(...(tag(r.round) as BenchData['round']));
  data.soak.push(...(tag(r.soak) as BenchData['soak']));
}

async function inNode(): Promise<void> {
  let mnist: Promise<Dataset<string>> | null = null;
  const loadMnist = () => (mnist ??= loadDataset('mnist', { source: nodeSource() }));
  for (const backend of nodeBackends) {
    await useBackend(backend);
    if (backend === 'wasm') {
      const info = backendInfo();
      nodeWasm = { simd: info.wasmSimd, threads: info.wasmThreads };
    }
    const r = await runSuites('node', quick, only, loadMnist, log);
    if (r.leakedTensors !== 0) log(`node ${backend}: WARNING ${r.leakedTensors} tensors left behind by the suites`);
    collect('node', r);
    errors.push(...r.errors);
  }
}

async function inChromium(): Promise<void> {
  const server = await createServer({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // WEBGPU_ARGS: SwiftShader's WebGPU adapter where there is no GPU (a real GPU's adapter where there is one).
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...WEBGPU_ARGS], headless: true });
  chromiumVersion = browser.version();
  try {
    const p = await browser.newPage();
    p.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('[bench] ')) log(text.slice(8));
      else if (msg.type() === 'error' && !text.startsWith('Failed to load resource')) log(`page error: ${text}`);
    });
    // Failed requests, with their URL (the console message above names none).
    p.on('response', (res) => {
      if (res.status() >= 400) log(`page request failed: ${res.status()} ${res.url()}`);
    });
    p.on('pageerror', (err) => log(`page exception: ${err.message}`));
    const query = new URLSearchParams();
    if (quick) query.set('quick', '');
    if (only.size !== SUITES.length) query.set('suites', [...only].join(','));
    if (pageBackends) query.set('backends', pageBackends.join(','));
    const qs = query.size ? `?${query.toString()}` : '';
    await p.goto(`http://127.0.0.1:${port}/bench/browser.html${qs}`);
    await p.waitForFunction(() => window.__bench !== undefined, undefined, { timeout: (quick ? 30 : 120) * 60_000, polling: 1000 });
    const result = (await p.evaluate(() => window.__bench!)) as PageResult;
    if (result.error) throw new Error(`browser benchmark failed: ${result.error}`);
    for (const [backend, n] of Object.entries(result.leakedTensors)) {
      if (n !== 0) log(`chromium ${backend}: WARNING ${n} tensors left behind by the suites`);
    }
    collect('chromium', { ...result, kernels: result.records });
    errors.push(...result.errors);
    const e = result.env;
    page = {
      userAgent: e.userAgent,
      hardwareConcurrency: e.hardwareConcurrency,
      crossOriginIsolated: e.crossOriginIsolated,
      renderer: e.webgl?.renderer ?? null,
      webgpuAdapter: e.webgpu?.renderer ?? null,
      webglVersion: e.webgl?.webglVersion ?? null,
      maxTextureSize: e.webgl?.maxTextureSize ?? null,
      renderFloat32: e.webgl?.renderFloat32 ?? null,
      wasmSimd: e.wasm?.wasmSimd ?? null,
      wasmThreads: e.wasm?.wasmThreads ?? null,
      wasmThreadsCount: e.wasm?.threadsCount ?? null,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

let sweep: SweepBenchRecord | null = null;
if (!browserOnly) await inNode();
// The sweep starts its own processes (Node only, not per backend).
if (!browserOnly && only.has('sweep')) {
  log('node: sweep…');
  try {
    sweep = await benchSweep(root, outDir, sweepPlan(quick), (line) => log(`node: ${line}`));
    log(`node: sweep done, --jobs 2 / --jobs 1 = ${sweep.ratio}x`);
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    errors.push({ where: 'node', backend: 'wasm', suite: 'sweep', message });
    log(`node: sweep FAILED: ${message}`);
  }
}
// The PyTorch peer: the same CNN in PyTorch, where a Python with torch is installed.
let torch: TorchPeerRecord | null = null;
if (!browserOnly && only.has('torch')) {
  const python = await findTorchPython();
  if (!python) log('node: torch peer skipped (no python3 with torch here; Debian: apt-get install python3-torch)');
  else {
    log(`node: torch peer (${python})…`);
    try {
      torch = await runTorchPeer(root, python, quick);
      log(`node: torch peer done: torch ${torch.torch}, ${torch.runs.map((r) => `${r.threads} thread(s): epoch ${r.trainEpochS.map((x) => x.toFixed(2)).join('/')} s, predict ${r.predictS.map((x) => x.toFixed(1)).join('/')} s`).join('; ')}`);
      if (nodeBackends.includes('wasm')) {
        // Epochs in turn, wasm then PyTorch, one thread each: the same load on both.
        await useBackend('wasm');
        const runner = await epochRunner(await loadDataset('mnist', { source: nodeSource() }), EPOCH_IMAGES, EPOCH_BATCH);
        try {
          torch.interleaved = await interleavedEpochs(root, python, quick ? 2 : INTERLEAVED_EPOCHS, runner.epoch);
        } finally {
          runner.dispose();
        }
        const r = interleavedRatio(torch.interleaved);
        log(`node: interleaved epochs: wasm ${r.wasm.wallS.toFixed(2)} s wall / ${r.wasm.cpuS.toFixed(2)} s CPU, torch ${r.torch.wallS.toFixed(2)} / ${r.torch.cpuS.toFixed(2)} s: ${r.wall.toFixed(2)}x wall, ${r.cpu.toFixed(2)}x CPU`);
      }
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      errors.push({ where: 'node', backend: 'torch', suite: 'torch', message });
      log(`node: torch peer FAILED: ${message}`);
    }
  }
}
if (!nodeOnly) await inChromium();
clearInterval(sampler);
loadSamples.push(loadavg()[0]!);

const machine: Machine = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  cores: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  totalMemGB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  chromium: chromiumVersion,
  tfjs: tf.version.tfjs,
  load: { start: loadStart, end: procLoad(), min: minOf(loadSamples), mean: mean(loadSamples), max: maxOf(loadSamples), samples: loadSamples.length },
  nodeWasm,
  page,
  durationS: Math.round((performance.now() - t0) / 1000),
  errors,
};

// Results: one file per suite that ran (kernels.json as before), and the machine.
mkdirSync(outDir, { recursive: true });
const write = (name: string, value: unknown) => writeFileSync(join(outDir, name), JSON.stringify(value, null, 2) + '\n');
for (const suite of only) if (suite !== 'sweep' && suite !== 'torch') write(`${suite}.json`, data[suite]);
if (sweep) write('sweep.json', sweep);
if (torch) write('torch.json', torch);
write('machine.json', machine);

const full: BenchData = { machine, ...data, torch };
console.log('\nwhere     backend  measure   n       c   k    tensorized ms  per-row ms  speed-up  same picks');
for (const r of data.kernels) {
  console.log(
    `${r.where.padEnd(9)} ${r.backend.padEnd(8)} ${r.measure.padEnd(9)} ${String(r.n).padEnd(7)} ${String(r.c).padEnd(3)} ${String(r.k).padEnd(4)} ` +
      `${r.tensorizedMs.toFixed(1).padStart(13)}  ${r.perRowMs.toFixed(1).padStart(10)}  ${(r.perRowMs / r.tensorizedMs).toFixed(1).padStart(7)}x  ${r.samePicks}`,
  );
}
for (const p of data.predict) console.log(`${p.where} ${p.backend} ${p.measure} n=${p.n} T=${p.samples}: ${(p.ms / 1000).toFixed(2)} s, ${p.imagesPerSec.toFixed(1)} img/s`);
for (const t of data.train) console.log(`${t.where} ${t.backend} train B=${t.batchSize}: step ${t.stepMs.toFixed(1)} ms (${t.samplesPerSec.toFixed(1)} samples/s), forward ${t.forwardMs.toFixed(1)} ms, ratio ${t.ratio.toFixed(2)}x`);
if (torch) {
  for (const r of torchRatios(torch, data.train, data.predict)) {
    console.log(`${r.where} wasm ${r.what}: ${r.wasmS.toFixed(2)} s vs PyTorch ${r.threads} thread(s) ${r.torchS.toFixed(2)} s = ${r.ratio.toFixed(2)}x`);
  }
}
console.log('\ntargets:');
for (const t of [...evaluateTargets(full), ...(sweep ? [sweepTarget(sweep)] : [])]) console.log(`  [${t.verdict}] ${t.target}\n      ${t.detail}`);
if (page) console.log(`webgl renderer: ${(page as NonNullable<Machine['page']>).renderer}; webgpu adapter: ${(page as NonNullable<Machine['page']>).webgpuAdapter ?? 'none'}`);
console.log(`load average: ${machine.load.start} at start, ${machine.load.end} at end (1-min mean ${machine.load.mean.toFixed(2)}, max ${machine.load.max.toFixed(2)})`);
console.log(`wrote ${[...only].filter((s) => (s !== 'sweep' || sweep) && (s !== 'torch' || torch)).map((s) => `bench/results/${s}.json`).join(', ')}, bench/results/machine.json`);

if (sweep) writeSweepDoc(sweep);
if (complete) {
  writeDoc(full);
} else {
  console.log('docs/benchmarks.md not updated (partial run: every suite in Node and Chromium is needed)');
}
if (errors.length) {
  console.error(`\n${errors.length} suite(s) failed:\n${errors.map((e) => `  ${e.where} ${e.backend} ${e.suite}: ${e.message}`).join('\n')}`);
  process.exit(1);
}
process.exit(0);
