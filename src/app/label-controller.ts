/**
 * The page's side of a labeling run ("Label it yourself"): starts it, shows each batch the host
 * asks about (views/label-view.ts), answers it by keys or buttons, saves every answer to
 * IndexedDB the moment it is given (store.ts, through the recorder's ordered writes) and takes it
 * back on undo, keeps the simulated oracle's curve beside yours, runs the drawing pad
 * (views/pad.ts) against the current model, adds a drawn digit with the label picked under the pad
 * to the labeled set (it goes with the waiting batch's answer, saved to IndexedDB at once), and
 * exports the labels as CSV.
 */
import type { Catalog } from './catalog.ts';
import { byId, h, replace } from './dom.ts';
import { LabelBatch, labelsToCsv, SKIP, type DrawnExample, type KeyAction, type LabelAnswer } from './labeling.ts';
import type { FromHost, LabelQuery, ToHost } from './protocol.ts';
import type { RunRecorder } from './recorder.ts';
import type { RunState } from './state.ts';
import { LabelView, type CurvePoint } from './views/label-view.ts';
import { DrawingPad } from './views/pad.ts';

export interface LabelDeps {
  catalog: Catalog;
  state: RunState;
  recorder: RunRecorder;
  send(msg: ToHost): void;
  /** Starts a labeling run of the form's configuration with this one strategy. */
  start(strategy: string): void;
  /** Whether a labeling run of the form's configuration could start now. */
  canStart(): boolean;
  /** The form's dataset, and a way to change it. */
  dataset(): string;
  setDataset(name: string): void;
  download(name: string, blob: Blob): void;
  fileStem(): string;
}

/** The classes the keys 0-9 can label. */
export const MAX_LABEL_CLASSES = 10;

export class LabelController {
  /** Whether the current (or last shown) run is a labeling run. */
  active = false;
  /** Every answer of the labeling run, kept across rounds (and reloads, from IndexedDB). */
  answers: LabelAnswer[] = [];
  /** Every digit drawn and added to the labeled set (kept across reloads, from IndexedDB). */
  drawn: DrawnExample[] = [];
  /** The label picked under the pad for the drawing (null: none yet). */
  private drawnLabel: number | null = null;
  private padNote = '';
  private batch: LabelBatch | null = null;
  private reference: CurvePoint[] = [];
  private message = '';
  private padSeq = 0;
  private readonly view: LabelView;
  private readonly pad: DrawingPad;
  private readonly els = {
    dataset: byId<HTMLSelectElement>('label-dataset'),
    strategy: byId<HTMLSelectElement>('label-strategy'),
    start: byId<HTMLButtonElement>('label-start'),
    work: byId('label-work'),
    batch: byId('label-batch'),
    exportLabels: byId<HTMLButtonElement>('export-labels'),
    padPanel: byId('pad-panel'),
    padAdd: byId('pad-add'),
    padClasses: byId('pad-classes'),
    padAddButton: byId<HTMLButtonElement>('pad-add-button'),
    padAddNote: byId('pad-add-note'),
  };

  constructor(private readonly deps: LabelDeps) {
    this.view = new LabelView(
      { batch: this.els.batch, keys: byId('label-keys'), stats: byId('label-stats'), curve: byId('label-curve'), note: byId('label-note') },
      {
        label: (label) => this.act(this.batch ? (() => {
          const a = this.batch.answer(label, performance.now());
          return a ? { kind: 'label', answer: a } : { kind: 'none' };
        })() : { kind: 'none' }, true),
        undo: () => this.act(this.batch?.key('Backspace', performance.now()) ?? { kind: 'none' }, true),
        submit: () => this.act(this.batch?.key('Enter', performance.now()) ?? { kind: 'none' }, true),
      },
    );
    this.pad = new DrawingPad(
      { wrap: byId('pad-wrap'), preview: byId('pad-preview'), bars: byId('pad-bars'), clear: byId<HTMLButtonElement>('pad-clear') },
      (pixels) => {
        deps.send({ type: 'predictDigit', id: ++this.padSeq, pixels: pixels.slice() });
        this.renderPadAdd();
      },
    );
    byId('pad-clear').addEventListener('click', () => this.renderPadAdd());
    this.els.padAddButton.addEventListener('click', () => this.addDrawn());
    this.els.padAdd.addEventListener('keydown', (e) => {
      if (!/^[0-9]$/.test(e.key) || e.ctrlKey || e.metaKey || e.altKey) return;
      const c = Number(e.key);
      if (c >= (this.deps.state.dataset?.numClasses ?? 0)) return;
      e.preventDefault();
      this.pick(c);
    });
    const { catalog } = deps;
    this.renderDatasets();
    replace(this.els.strategy, ...catalog.strategies.map((st) => h('option', { attrs: { value: st.name }, text: st.label })));
    this.els.strategy.value = catalog.strategies.some((st) => st.name === 'entropy') ? 'entropy' : catalog.strategies[0]?.name ?? '';
    this.els.dataset.addEventListener('change', () => deps.setDataset(this.els.dataset.value));
    this.els.start.addEventListener('click', () => {
      if (deps.canStart()) deps.start(this.els.strategy.value);
    });
    this.els.exportLabels.addEventListener('click', () => {
      if (this.answers.length || this.drawn.length) deps.download(`${deps.fileStem()}-labels.csv`, new Blob([labelsToCsv(this.answers, this.drawn)], { type: 'text/csv' }));
    });
    this.els.work.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** A labeling run starts (or resumes with the answers and drawn digits saved for it). */
  begin(saved: LabelAnswer[] = [], drawn: DrawnExample[] = []): void {
    this.active = true;
    this.answers = [...saved];
    this.drawn = [...drawn];
    this.drawnLabel = null;
    this.padNote = '';
    this.batch = null;
    this.reference = [];
    this.message = 'Training the model on the initial labeled set…';
    this.pad.clear();
    this.render();
  }

  /** A simulated run, or results opened from a file: the labeling view stands aside. */
  clear(): void {
    this.active = false;
    this.answers = [];
    this.drawn = [];
    this.drawnLabel = null;
    this.padNote = '';
    this.batch = null;
    this.reference = [];
    this.message = '';
    this.render();
  }

  /** A stored labeling run shown without running: its answers and drawn digits, for the CSV. */
  show(saved: LabelAnswer[], drawn: DrawnExample[] = []): void {
    this.active = true;
    this.answers = saved;
    this.drawn = drawn;
    this.padNote = '';
    this.batch = null;
    this.reference = [];
    this.message = `A stored labeling run: ${saved.length} answers saved.`;
    this.render();
  }

  /** The run ended (finished, stopped, failed, crashed). */
  ended(): void {
    if (!this.active) return;
    const st = this.deps.state.status;
    this.batch = null;
    this.message = st === 'complete' ? 'Labeling run complete. Export your labels as CSV, or the run as results JSON (Summary).'
      : `The labeling run stopped (${st}); your answers are saved in this browser, Resume goes on from the next unlabeled item.`;
    this.render();
  }

  /** Messages from the host for the labeling run; true when handled. */
  onMessage(msg: FromHost): boolean {
    switch (msg.type) {
      case 'query':
        this.onQuery(msg.query);
        return true;
      case 'reference':
        if (this.active) {
          this.reference.push({ labeled: msg.labeled, accuracy: msg.accuracy });
          this.render();
        }
        return true;
      case 'digit':
        if (msg.id === this.padSeq) {
          if (msg.probs) this.pad.showBars(msg.probs, '', this.deps.state.dataset?.classNames ?? []);
          else this.pad.showBars(null, msg.error ?? 'no probabilities');
        }
        return true;
      default:
        return false;
    }
  }

  private onQuery(q: LabelQuery): void {
    const ds = this.deps.state.dataset;
    const numClasses = ds?.numClasses ?? 0;
    if (numClasses > MAX_LABEL_CLASSES) {
      this.message = `This dataset has ${numClasses} classes: the keys 0-9 label up to ${MAX_LABEL_CLASSES}.`;
      this.render();
      return;
    }
    const prior = this.answers.filter((a) => a.strategy === q.strategy && a.repeat === q.repeat && a.round === q.round);
    this.batch = new LabelBatch(q, numClasses, prior, performance.now());
    // Answers of this round that do not fit the batch (another selection) are dropped.
    const kept = new Set(Array.from({ length: this.batch.size }, (_, p) => this.batch!.at(p)));
    this.answers = this.answers.filter((a) => !prior.includes(a) || kept.has(a));
    const what = q.round === 0 ? `the initial set, drawn at random (no labels yet): label its ${q.indices.length} items; the first model trains on them`
      : `label the ${q.indices.length} items the model asks about`;
    this.message = `Round ${q.round}: ${what}${prior.length ? ` (${prior.length} answered before the reload)` : ''}.`;
    this.render();
    const inPanel = document.activeElement === document.body || !!document.activeElement?.closest('#panel-label');
    if (inPanel) this.els.batch.focus();
    // The model changed: ask it about the drawing again.
    if (this.pad.pixels) this.deps.send({ type: 'predictDigit', id: ++this.padSeq, pixels: this.pad.pixels.slice() });
    // A batch answered in full before a reload waits only for Enter.
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.batch || e.ctrlKey || e.metaKey || e.altKey) return;
    if (!/^[0-9]$/.test(e.key) && !['Enter', ' ', 'Spacebar', 'Backspace'].includes(e.key)) return;
    e.preventDefault();
    this.act(this.batch.key(e.key, performance.now()), false);
  }

  private act(action: KeyAction, fromButton: boolean): void {
    const rec = this.deps.recorder;
    switch (action.kind) {
      case 'label': {
        const a = action.answer;
        this.answers.push(a);
        rec.write((store, id) => store.putLabel(id, a));
        this.message = a.label === SKIP ? `Item ${a.position + 1} skipped.` : `Item ${a.position + 1} labeled ${this.deps.state.dataset?.classNames[a.label] ?? a.label}.`;
        break;
      }
      case 'undo': {
        const a = action.answer;
        this.answers = this.answers.filter((x) => x !== a);
        rec.write((store, id) => store.deleteLabel(id, a));
        this.message = `Took back the answer to item ${a.position + 1}.`;
        break;
      }
      case 'submit': {
        const q = this.batch!.query;
        const added = this.drawnFor(q).map((d) => ({ label: d.label, pixels: d.pixels.slice() }));
        this.deps.send({ type: 'labels', id: q.id, labels: action.labels, ...(added.length ? { added } : {}) });
        this.batch = null;
        this.message = `Round ${q.round} submitted: training on your labels…`;
        break;
      }
      case 'incomplete':
        this.message = `${action.missing} item${action.missing === 1 ? '' : 's'} still need${action.missing === 1 ? 's' : ''} a label or a skip before Enter submits.`;
        break;
      case 'none':
        return;
    }
    this.render();
    if (fromButton) this.els.batch.focus();
  }

  /** The digits drawn and added while `q`'s batch waited, in the order added. */
  private drawnFor(q: Pick<LabelQuery, 'strategy' | 'repeat' | 'round'>): DrawnExample[] {
    return this.drawn.filter((d) => d.strategy === q.strategy && d.repeat === q.repeat && d.round === q.round).sort((a, b) => a.position - b.position);
  }

  /** Picks the drawing's label (a class button under the pad, or its key there). */
  private pick(label: number): void {
    this.drawnLabel = label;
    this.renderPadAdd();
  }

  /** Adds the drawing, with the picked label, to the labeled set: saved now, sent with the batch's answer. */
  private addDrawn(): void {
    const q = this.batch?.query;
    const pixels = this.pad.pixels;
    const label = this.drawnLabel;
    if (!q || !pixels || label === null) return;
    const d: DrawnExample = { strategy: q.strategy, repeat: q.repeat, round: q.round, position: this.drawnFor(q).length, label, pixels: pixels.slice() };
    this.drawn.push(d);
    this.deps.recorder.write((store, id) => store.putDrawn(id, d));
    const n = this.drawnFor(q).length;
    this.padNote = `Added a drawn ${this.deps.state.dataset?.classNames[label] ?? label} to the labeled set: it joins with round ${q.round}'s labels when you submit them (${n} drawn this round).`;
    this.pad.clear();
    this.drawnLabel = null;
    this.render();
  }

  /** The label picker and the Add button under the pad. */
  private renderPadAdd(): void {
    const names = this.deps.state.dataset?.classNames ?? [];
    const classes = Math.min(MAX_LABEL_CLASSES, this.deps.state.dataset?.numClasses ?? 0);
    // Built once per set of classes, then only pressed or not: a button keeps the focus it has.
    const key = `${classes}|${names.join('|')}`;
    if (this.els.padClasses.dataset.classes !== key) {
      this.els.padClasses.dataset.classes = key;
      replace(this.els.padClasses, ...Array.from({ length: classes }, (_, c) => h('button', {
        class: 'class-key', attrs: { type: 'button', 'aria-pressed': 'false', 'aria-label': `The drawing is ${names[c] ?? c} (key ${c})`, 'aria-keyshortcuts': String(c) },
        on: { click: () => this.pick(c) },
      }, h('kbd', { text: String(c) }), h('span', { text: names[c] ?? String(c) }))));
    }
    this.els.padClasses.querySelectorAll('button').forEach((b, c) => b.setAttribute('aria-pressed', String(this.drawnLabel === c)));
    const why = !this.batch ? 'a drawing is added while a batch waits for your labels'
      : this.batch.query.round === 0 ? 'a drawing is added with a batch the model chose, from round 1 on' : !this.pad.pixels ? 'draw a digit first' : this.drawnLabel === null ? 'pick its label first' : '';
    const b = this.els.padAddButton;
    b.disabled = why !== '';
    b.title = why;
    b.textContent = this.drawnLabel === null ? 'Add to labeled set' : `Add to labeled set as ${names[this.drawnLabel] ?? this.drawnLabel}`;
    this.els.padAddNote.textContent = this.padNote;
  }

  render(): void {
    const { state } = this.deps;
    const run = this.active ? state.runs[0] ?? null : null;
    this.view.render(this.batch, state.dataset, this.message, run);
    if (this.active) {
      this.view.renderStats(this.answers, this.drawn.length);
      if (state.dataset?.unlabeled) this.view.renderUnlabeled(state.dataset, this.answers, this.drawn, run);
      else {
        const yours = run ? run.rounds.flatMap((r) => (r.record.accuracy === null ? [] : [{ labeled: r.record.labeled, accuracy: r.record.accuracy }])) : [];
        this.view.renderCurve(yours, this.reference);
      }
    } else {
      replace(byId('label-stats'));
      replace(byId('label-curve'));
    }
    this.renderControls();
    this.renderPadAdd();
  }

  /** The datasets to label (at most 10 classes), the user's own among them: rebuilt when the catalog changes. */
  private renderDatasets(): void {
    const offered = [...this.deps.catalog.datasets.values()].filter((d) => d.numClasses <= MAX_LABEL_CLASSES);
    const key = offered.map((d) => `${d.name}:${d.hash ?? ''}`).join('|');
    if (this.els.dataset.dataset.offered === key) return;
    this.els.dataset.dataset.offered = key;
    replace(this.els.dataset, ...offered.map((d) => h('option', { attrs: { value: d.name }, text: d.unlabeled ? `${d.name} (no labels: you give them)` : d.name })));
  }

  /** The start controls and the export button (cheap: called with the page's buttons). */
  renderControls(): void {
    const { state } = this.deps;
    this.renderDatasets();
    this.els.exportLabels.disabled = this.answers.length === 0 && this.drawn.length === 0;
    this.els.start.disabled = state.running || !this.deps.canStart();
    this.els.dataset.disabled = state.running;
    this.els.strategy.disabled = state.running;
    if (this.els.dataset.value !== this.deps.dataset()) this.els.dataset.value = this.deps.dataset();
    const classes = this.deps.catalog.datasets.get(this.deps.dataset())?.numClasses ?? 0;
    this.els.start.title = classes > MAX_LABEL_CLASSES ? `${this.deps.dataset()} has ${classes} classes: the keys 0-9 label up to ${MAX_LABEL_CLASSES}` : '';
    const shape = state.dataset?.shape ?? this.deps.catalog.datasets.get(this.deps.dataset())?.shape ?? [];
    this.els.padPanel.hidden = !(shape.length === 3 && shape[0] === 28 && shape[1] === 28 && shape[2] === 1);
  }
}
