/**
 * `npm run bench [-- --quick] [-- --node-only]`: the kernel benchmark in Node (wasm, cpu) and in
 * Debian's Chromium (webgl through SwiftShader here, wasm), written to bench/results/kernels.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { chromium } from 'playwright';
import { useBackend } from '../src/backend/index.ts';
import { benchKernels, type KernelRecord } from './kernels.ts';
import { CHROMIUM_ARGS, chromiumPath } from '../vite.config.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const nodeOnly = args.has('--node-only');

type Row = KernelRecord & { where: 'node' | 'chromium'; renderer?: string | null };

async function inNode(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    process.stdout.write(`node ${backend}… `);
    for (const r of await benchKernels(quick ? { runs: 3, warmup: 1 } : {})) rows.push({ ...r, where: 'node' });
    process.stdout.write('done\n');
  }
  return rows;
}

async function inChromium(): Promise<Row[]> {
  const server = await createServer({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    process.stdout.write('chromium webgl, wasm… ');
    await page.goto(`http://127.0.0.1:${port}/bench/browser.html${quick ? '?quick' : ''}`);
    await page.waitForFunction(() => window.__bench !== undefined, undefined, { timeout: 15 * 60_000 });
    const result = await page.evaluate(() => window.__bench!);
    if (result.error) throw new Error(`browser benchmark failed: ${result.error}`);
    process.stdout.write('done\n');
    return result.records.map((r) => ({ ...r, where: 'chromium' as const }));
  } finally {
    await browser.close();
    await server.close();
  }
}

const rows = [...(await inNode()), ...(nodeOnly ? [] : await inChromium())];
const out = join(root, 'bench/results/kernels.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');

console.log('\nwhere     backend  measure   n       c   k    tensorized ms  per-row ms  speed-up  same picks');
for (const r of rows) {
  console.log(
    `${r.where.padEnd(9)} ${r.backend.padEnd(8)} ${r.measure.padEnd(9)} ${String(r.n).padEnd(7)} ${String(r.c).padEnd(3)} ${String(r.k).padEnd(4)} ` +
      `${r.tensorizedMs.toFixed(1).padStart(13)}  ${r.perRowMs.toFixed(1).padStart(10)}  ${(r.perRowMs / r.tensorizedMs).toFixed(1).padStart(7)}x  ${r.samePicks}`,
  );
}
const renderer = rows.find((r) => r.renderer)?.renderer;
if (renderer) console.log(`webgl renderer: ${renderer}`);
console.log(`wrote ${out}`);
process.exit(0);
