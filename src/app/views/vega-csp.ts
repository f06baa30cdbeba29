/**
 * Vega under the page's Content-Security-Policy (no eval, src/security/csp.ts): Vega would compile
 * its expressions into functions with `new Function`, so every spec is parsed with `{ast: true}`
 * and the View evaluates the ASTs with vega-interpreter. The learning curves (curves.ts) and
 * tfjs-vis's charts (through vega-embed-csp.ts) both draw this way.
 */
import type { Spec, View } from 'vega';

export type ChartLibs = [typeof import('vega'), typeof import('vega-lite'), typeof import('vega-interpreter')];

/** Vega and Vega-Lite load on first use, so the page paints before their ~850 kB arrive. */
let chartLibs: Promise<ChartLibs> | null = null;
export const loadChartLibs = (): Promise<ChartLibs> => (chartLibs ??= Promise.all([import('vega'), import('vega-lite'), import('vega-interpreter')]));

/** A Vega View (SVG renderer) of a Vega spec that never calls `new Function`. */
export function cspSafeView([vega, , { expressionInterpreter }]: ChartLibs, spec: Spec, container: HTMLElement, opts: { hover?: boolean; config?: object } = {}): View {
  const runtime = vega.parse(spec, opts.config, { ast: true });
  return new vega.View(runtime, { renderer: 'svg', container, hover: opts.hover ?? false, expr: expressionInterpreter });
}
