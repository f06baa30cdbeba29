/** Confusion matrices of each strategy's model at the chosen round (rows: true class, columns: predicted). */
import { strategyColor } from '../colors.ts';
import { h, replace } from '../dom.ts';
import type { DatasetInfo, StrategyMeta } from '../protocol.ts';
import type { RunData } from '../state.ts';
import { accuracyText } from '../../engine/results.ts';

function rgba(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha.toFixed(3)})`;
}

export function confusionTable(confusion: number[], classNames: string[], color: string, title: string, detail: string): HTMLTableElement {
  const c = classNames.length;
  const short = (i: number) => {
    const n = classNames[i] ?? String(i);
    return n.length <= 3 ? n : String(i);
  };
  const head = h('tr', {}, h('th', { class: 'corner', attrs: { scope: 'col' }, title: 'rows: true class; columns: predicted', text: 't \\ p' }),
    ...classNames.map((n, j) => h('th', { attrs: { scope: 'col' }, title: `predicted ${n}`, text: short(j) })));
  const rows: HTMLElement[] = [];
  for (let i = 0; i < c; i++) {
    const row = confusion.slice(i * c, (i + 1) * c);
    const total = row.reduce((a, b) => a + b, 0);
    rows.push(h('tr', {}, h('th', { attrs: { scope: 'row' }, title: `true ${classNames[i] ?? i}`, text: short(i) }),
      ...row.map((v, j) => {
        const share = total ? v / total : 0;
        return h('td', {
          class: `${i === j ? 'diag' : ''} ${share > 0.55 ? 'dark' : ''}`.trim(),
          style: { background: v ? rgba(i === j ? color : '#d62728', i === j ? 0.12 + 0.88 * share : 0.1 + 0.9 * share) : 'transparent' },
          title: `true ${classNames[i] ?? i}, predicted ${classNames[j] ?? j}: ${v} of ${total}`,
          text: v ? String(v) : '',
        });
      })));
  }
  return h('table', { class: 'confusion' }, h('caption', {}, h('strong', { text: title }), h('span', { class: 'detail', text: detail })), h('thead', {}, head), h('tbody', {}, ...rows));
}

export function renderConfusion(container: HTMLElement, runs: RunData[], ds: DatasetInfo, strategies: StrategyMeta[], sel: { repeat: number; round: number }): void {
  const items: HTMLElement[] = [];
  for (const run of runs.filter((r) => r.repeat === sel.repeat)) {
    const data = run.rounds.find((x) => x.record.round === sel.round) ?? null;
    if (!data || data.confusion.length === 0) continue; // a results file keeps no confusion matrices
    const label = strategies.find((x) => x.name === run.strategy)?.label ?? run.strategy;
    const color = strategyColor(run.strategy);
    items.push(h('figure', { class: 'confusion-fig', data: { strategy: run.strategy } },
      confusionTable(data.confusion, ds.classNames, color, label,
        `round ${data.record.round} · ${data.record.labeled} labels · ${accuracyText(data.record.accuracy)}`)));
  }
  const fromFile = runs.some((r) => r.rounds.length > 0) && runs.every((r) => r.rounds.every((x) => x.confusion.length === 0));
  if (items.length === 0) {
    replace(container, h('p', { class: 'empty', text: fromFile
      ? 'A results file keeps no confusion matrices: run the experiment again (its configuration is in the form) to see them.'
      : 'Confusion matrices of each model on the test subset appear after its first evaluation.' }));
  }
  else replace(container, h('div', { class: 'confusion-grid' }, ...items));
}
