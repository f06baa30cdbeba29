/** Diagnostics: where the computation runs, tensors before and after the run, page responsiveness, time per phase. */
import type { BackendInfo } from '../../backend/catalog.ts';
import { h, replace } from '../dom.ts';
import type { StrategyMeta } from '../protocol.ts';
import type { RunData } from '../state.ts';

export interface DiagnosticsInput {
  backend: BackendInfo | null;
  thread: 'worker' | 'page';
  fallbackReason: string | null;
  tensors: { before: number | null; after: number | null };
  longestTask: number;
  runs: RunData[];
  strategies: StrategyMeta[];
  running: boolean;
}

const PHASES = ['predict', 'score', 'select', 'train', 'evaluate'] as const;

export function renderDiagnostics(container: HTMLElement, d: DiagnosticsInput): void {
  const row = (k: string, v: string, attrs: Record<string, string> = {}) => h('tr', {}, h('th', { attrs: { scope: 'row' }, text: k }), h('td', { text: v, data: attrs }));
  const b = d.backend;
  const t = d.tensors;
  let tensors = 'reported when a run starts';
  if (t.before !== null && t.after === null) tensors = `${t.before} before the run`;
  if (t.before !== null && t.after !== null) {
    const diff = t.after - t.before;
    tensors = `${t.before} before the run, ${t.after} after${diff === 0 ? ' (nothing leaked)' : ` (${diff > 0 ? '+' : ''}${diff})`}`;
  }
  const env = h('table', { class: 'kv' },
    h('tbody', {},
      row('Backend', b ? b.backend : '—', { backend: b?.backend ?? '' }),
      b?.backend === 'webgl' ? row('GPU renderer', b.renderer ?? 'unknown') : null,
      b?.backend === 'webgl' ? row('WebGL version', String(b.webglVersion ?? '—')) : null,
      b?.backend === 'webgpu' ? row('WebGPU adapter', b.renderer ?? 'unknown') : null,
      b?.backend === 'wasm' ? row('wasm SIMD / threads', `${b.wasmSimd ? 'on' : 'off'} / ${b.wasmThreads ? 'on' : 'off'}`) : null,
      row('Computation', d.thread === 'worker' ? 'in a Web Worker (the page thread only draws)' : `on the page: ${d.fallbackReason ?? ''}`),
      h('tr', {}, h('th', { attrs: { scope: 'row' }, text: 'tf.memory().numTensors' }),
        h('td', { id: 'diag-tensors', text: tensors, data: { before: t.before ?? '', after: t.after ?? '' } })),
      h('tr', {}, h('th', { attrs: { scope: 'row' }, text: 'Longest page task in the run' }),
        h('td', { id: 'diag-longtask', text: d.longestTask ? `${Math.round(d.longestTask)} ms` : 'none over 50 ms', data: { ms: Math.round(d.longestTask) } })),
    ));
  const parts: HTMLElement[] = [env];
  const withRounds = d.runs.filter((r) => r.rounds.length > 1);
  if (withRounds.length) {
    const by = new Map<string, number[][]>();
    for (const r of withRounds) {
      const list = by.get(r.strategy) ?? [];
      for (const x of r.rounds.slice(1)) list.push(PHASES.map((p) => x.record.ms[p]));
      by.set(r.strategy, list);
    }
    const rows = [...by].map(([name, list]) => h('tr', {},
      h('th', { attrs: { scope: 'row' }, text: d.strategies.find((s) => s.name === name)?.label ?? name }),
      ...PHASES.map((_, i) => h('td', { class: 'num', text: (list.reduce((a, v) => a + v[i]!, 0) / list.length).toFixed(0) }))));
    parts.push(h('table', { class: 'timings' },
      h('caption', { text: 'Mean milliseconds per query round, by phase' }),
      h('thead', {}, h('tr', {}, h('th', { attrs: { scope: 'col' }, text: 'Strategy' }), ...PHASES.map((p) => h('th', { attrs: { scope: 'col' }, text: p })))),
      h('tbody', {}, ...rows)));
  }
  replace(container, ...parts);
}
