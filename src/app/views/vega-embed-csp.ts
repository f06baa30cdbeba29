/**
 * A CSP-safe stand-in for `vega-embed`, for tfjs-vis's charts (views/model-panel.ts).
 *
 * tfjs-vis 1.5.1's renderers (`render/linechart`, `render/barchart`) call
 * `vegaEmbed(el, vegaLiteSpec, {actions: false, mode: 'vega-lite', defaultStyle: false})` on the
 * vega 5.20 / vega-lite 4.13 / vega-embed 6.17 it pins. That vega compiles its expressions with
 * `new Function`, which the page's Content-Security-Policy (no 'unsafe-eval', src/security/csp.ts)
 * blocks. vite.config.ts resolves `vega-embed` to this module, in the dev server's pre-bundling
 * and in the build, so those charts run on the app's vega 6 + vega-lite 6 and evaluate their
 * expressions with vega-interpreter, like the learning curves (views/curves.ts); tfjs-vis's own
 * vega 5 and vega-lite 4 are then never imported, so never bundled.
 *
 * What it does of vega-embed: compiles a Vega-Lite spec (mode 'vega-lite', or a spec whose
 * $schema names vega-lite) or takes a Vega spec as is, renders it as SVG into `el` (replacing
 * what was there), and resolves to `{view, spec, vgSpec, finalize}` (tfjs-vis's barchart keeps
 * `.view` to update its data in place). Drawing into an element again finalizes the view drawn
 * there before (vega-embed leaves that to the caller, and tfjs-vis never does, so its linechart
 * would leak a live view per redraw). Not supported, and not asked for by tfjs-vis: the actions
 * menu, the embed stylesheet, themes, tooltips beyond Vega's default (the `title` attribute),
 * loading a spec from a URL.
 */
import type { Spec, View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { cspSafeView, loadChartLibs } from './vega-csp.ts';

export interface EmbedOptions {
  /** 'vega-lite' (what tfjs-vis passes) or 'vega'; without it, guessed from the spec's $schema. */
  mode?: 'vega' | 'vega-lite';
  /** Accepted for vega-embed compatibility; no actions menu is ever drawn. */
  actions?: boolean | object;
  /** Accepted for vega-embed compatibility; no stylesheet is ever added. */
  defaultStyle?: boolean | string;
  /** Vega config merged into the parsed spec. */
  config?: object;
  /** @default true */
  hover?: boolean;
}

export interface Result {
  view: View;
  spec: object;
  vgSpec: Spec;
  finalize: () => void;
}


/**
 * The view last drawn into an element, kept on the element under a registered symbol: in the dev
 * server this module has two copies (one inside the pre-bundled tfjs-vis, one the page imports),
 * and both must see it.
 */
const VIEW = Symbol.for('activelab.vega-embed-csp.view');
type Drawn = HTMLElement & { [VIEW]?: View };

/** The live view last drawn into `el`, if any. */
export function viewOf(el: HTMLElement): View | null {
  return (el as Drawn)[VIEW] ?? null;
}

/** Finalizes the view drawn into `el`, if any (its timers and listeners); the SVG stays. */
export function release(el: HTMLElement): void {
  const d = el as Drawn;
  d[VIEW]?.finalize();
  delete d[VIEW];
}

function isVegaLite(spec: object, mode: EmbedOptions['mode']): boolean {
  if (mode) return mode === 'vega-lite';
  const schema = (spec as { $schema?: unknown }).$schema;
  return typeof schema === 'string' && schema.includes('vega-lite');
}

/**
 * Renders `spec` into `el` under the page's CSP (see the file comment).
 *
 * @example
 *   const { view } = await embed(div, { data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { y: { field: 'a', type: 'quantitative' } } }, { mode: 'vega-lite' });
 */
export default async function embed(el: HTMLElement | string, spec: object | string, opts: EmbedOptions = {}): Promise<Result> {
  const element = typeof el === 'string' ? document.querySelector<HTMLElement>(el) : el;
  if (!element) throw new Error(`vega-embed (CSP-safe): no element matches ${String(el)}`);
  if (typeof spec === 'string') throw new Error('vega-embed (CSP-safe): loading a spec from a URL is not supported; pass the spec object');
  const libs = await loadChartLibs();
  const vgSpec = isVegaLite(spec, opts.mode) ? libs[1].compile(spec as TopLevelSpec).spec : (spec as Spec);
  release(element);
  const view = cspSafeView(libs, vgSpec, element, { hover: opts.hover ?? true, ...(opts.config ? { config: opts.config } : {}) });
  (element as Drawn)[VIEW] = view;
  await view.runAsync();
  return {
    view,
    spec,
    vgSpec,
    finalize: () => {
      if ((element as Drawn)[VIEW] === view) release(element);
      else view.finalize();
    },
  };
}
