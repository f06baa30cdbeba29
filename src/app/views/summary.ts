/** The summary table: final accuracy (mean ± std), ALC, labels to target, each against random. */
import { strategyColor } from '../colors.ts';
import { stopAdviceText, type PairedStat, type StrategySummary } from '../../engine/results.ts';
import { h, replace } from '../dom.ts';
import type { StrategyMeta } from '../protocol.ts';
import type { RunData } from '../state.ts';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** A paired difference as text: "+0.012 [−0.004, +0.029] p = 0.25". */
function pairedCell(p: PairedStat | null, digits: number): string {
  if (p === null) return '—';
  return `${signed(p.meanDifference, digits)} [${signed(p.low, digits)}, ${signed(p.high, digits)}] p = ${p.wilcoxonP.toFixed(2)}`;
}

export function renderSummary(
  container: HTMLElement,
  summary: StrategySummary[],
  runs: RunData[],
  strategies: StrategyMeta[],
  target: number,
  rounds: number,
): void {
  if (summary.length === 0) {
    replace(container, h('p', { class: 'empty', text: 'The summary appears after the first evaluated round.' }));
    return;
  }
  const random = summary.find((s) => s.strategy === 'random');
  const advice = summary.some((s) => s.stopping);
  const paired = summary.some((s) => s.vsRandom !== null);
  const label = (name: string) => strategies.find((s) => s.name === name)?.label ?? name;
  const head = h('tr', {},
    h('th', { text: 'Strategy', attrs: { scope: 'col' } }),
    h('th', { text: 'Final accuracy', attrs: { scope: 'col' }, title: 'Test accuracy after the last completed round, mean ± std over repeats' }),
    h('th', { text: 'ALC', attrs: { scope: 'col' }, title: 'Area under the learning curve (accuracy vs labels), normalised to [0, 1]' }),
    random ? h('th', { text: 'ALC vs random', attrs: { scope: 'col' } }) : null,
    h('th', { text: `Labels to ${pct(target)}`, attrs: { scope: 'col' }, title: 'Labels at the first round reaching the target accuracy (mean over the repeats that did)' }),
    advice ? h('th', {
      text: 'Predictions stable at', attrs: { scope: 'col' },
      title: "Labels at the round where the stop-set predictions of successive models agreed (mean Cohen's kappa of the last 3 rounds at least 0.99, Bloodgood & Vijay-Shanker 2009), the labels stopping there saves and the accuracy it gives up against the last round",
    }) : null,
    paired ? h('th', { text: 'Labels vs random', attrs: { scope: 'col' }, title: 'Paired difference in labels to the target over the repeats where both reached it (lower is better)' }) : null,
    h('th', { text: 'Rounds', attrs: { scope: 'col' } }),
  );
  const rows = summary.map((s) => {
    const mine = runs.filter((r) => r.strategy === s.strategy);
    const done = mine.reduce((a, r) => a + Math.max(0, r.rounds.length - 1), 0);
    const planned = rounds * s.repeats;
    const delta = random && s.strategy !== 'random' && s.alc !== null && random.alc !== null ? s.alc - random.alc : null;
    const fin = s.finalAccuracy;
    const ltt = s.labelsToTarget;
    return h('tr', { data: { strategy: s.strategy } },
      h('th', { attrs: { scope: 'row' } },
        h('span', { class: 'swatch', style: { background: strategyColor(s.strategy) }, attrs: { 'aria-hidden': 'true' } }),
        label(s.strategy)),
      fin === null
        ? h('td', { class: 'num', data: { col: 'final-accuracy', value: '' }, text: '—', title: 'No test accuracy: accuracy needs labeled test data' })
        : h('td', { class: 'num', data: { col: 'final-accuracy', value: fin.mean, std: fin.std } },
            pct(fin.mean), s.repeats > 1 ? h('span', { class: 'pm', text: ` ± ${(fin.std * 100).toFixed(1)}` }) : null),
      h('td', { class: 'num', data: { col: 'alc', value: s.alc ?? '' }, text: s.alc === null ? '—' : s.alc.toFixed(3) }),
      random ? h('td', {
        class: `num ${delta === null ? '' : delta > 0 ? 'better' : delta < 0 ? 'worse' : ''}`, data: { col: 'alc-delta' },
        text: s.vsRandom ? pairedCell(s.vsRandom.alc, 3) : delta === null ? '—' : signed(delta, 3),
      }) : null,
      h('td', { class: 'num', data: { col: 'labels-to-target' }, text: ltt.mean === null ? 'not reached' : `${Math.round(ltt.mean)}${s.repeats > 1 ? ` (${ltt.reached}/${s.repeats})` : ''}` }),
      advice ? h('td', { class: 'num', data: { col: 'stop-advice' }, text: s.stopping ? stopAdviceText(s.stopping.find((x) => x.criterion === 'stabilizing')!, s.repeats) : '—' }) : null,
      paired ? h('td', { class: 'num', data: { col: 'labels-delta' }, text: pairedCell(s.vsRandom?.labelsToTarget ?? null, 0) }) : null,
      h('td', { class: 'num', data: { col: 'rounds' }, text: `${done}/${planned}` }),
    );
  });
  replace(container, h('table', { class: 'summary-table', id: 'summary-table' },
    h('caption', { class: 'visually-hidden', text: 'Summary per strategy' }),
    h('thead', {}, head), h('tbody', {}, ...rows)),
  paired
    ? h('p', { class: 'help', id: 'summary-stats-note', text: 'Against random, paired by repeat (the same initial set): mean difference [95% seeded bootstrap interval], p = exact Wilcoxon signed-rank test (two-sided). With few repeats an interval that crosses 0 means the difference may be noise.' })
    : null);
}
