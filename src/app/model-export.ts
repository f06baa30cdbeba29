/**
 * The page's side of model export: the host says which runs' final models it keeps
 * (`modelReady`); a select and a button in the summary panel ask for one (`exportModel`); the
 * answer (`model`) is downloaded as `<stem>-<strategy>-r<repeat>.json` and `.weights.bin`, the
 * TensorFlow.js files that `tf.loadLayersModel(tf.io.browserFiles([json, bin]))` reads. No tfjs
 * here: the files arrive as text and a transferred buffer.
 */
import { h, replace } from './dom.ts';
import type { FromHost, ToHost } from './protocol.ts';

interface Kept {
  strategy: string;
  repeat: number;
  bytes: number;
}

export interface ModelExportParts {
  /** Shown once a model is kept. */
  wrap: HTMLElement;
  select: HTMLSelectElement;
  button: HTMLButtonElement;
  /** A polite live region for what happened. */
  status: HTMLElement;
  send(msg: ToHost): void;
  download(name: string, data: Blob): void;
  /** The strategy's label in the page. */
  label(strategy: string): string;
  /** The file stem of this experiment's exports (`activelab-<dataset>-<model>-seed<n>-<time>`). */
  stem(): string;
}

const size = (bytes: number) => (bytes < 1 << 20 ? `${Math.max(1, Math.round(bytes / 1024))} kB` : `${(bytes / (1 << 20)).toFixed(1)} MB`);

export class ModelExports {
  private readonly kept = new Map<string, Kept>();
  private seq = 0;
  private pending: { id: number; what: string } | null = null;

  constructor(private readonly parts: ModelExportParts) {
    parts.button.addEventListener('click', () => this.request());
    this.render();
  }

  /** A new experiment starts (or results are opened): the host drops its models. */
  reset(): void {
    this.kept.clear();
    this.pending = null;
    this.say('', '');
    this.render();
  }

  /** Handles `modelReady` and `model`; returns whether `msg` was one of them. */
  onMessage(msg: FromHost): boolean {
    if (msg.type === 'modelReady') {
      this.kept.set(`${msg.strategy}#${msg.repeat}`, { strategy: msg.strategy, repeat: msg.repeat, bytes: msg.bytes });
      this.render();
      return true;
    }
    if (msg.type !== 'model') return false;
    const pending = this.pending;
    if (pending?.id !== msg.id) return true; // an answer to an earlier request
    this.pending = null;
    if (msg.files) {
      const f = msg.files;
      this.parts.download(f.jsonName, new Blob([f.modelJson], { type: 'application/json' }));
      this.parts.download(f.weightsName, new Blob([f.weights], { type: 'application/octet-stream' }));
      this.say('ok', `Downloaded the final model of ${pending.what}: ${f.jsonName} and ${f.weightsName} (load both with tf.loadLayersModel; see the README).`);
    } else {
      this.say('error', `Could not export the model of ${pending.what}: ${msg.error ?? 'unknown error'}`);
    }
    this.render();
    return true;
  }

  private request(): void {
    const k = this.kept.get(this.parts.select.value);
    if (!k) return;
    const id = ++this.seq;
    const what = `${this.parts.label(k.strategy)}, repeat ${k.repeat + 1}`;
    this.pending = { id, what };
    this.say('busy', `Exporting the final model of ${what}…`);
    this.parts.send({ type: 'exportModel', id, strategy: k.strategy, repeat: k.repeat, name: `${this.parts.stem()}-${k.strategy}-r${k.repeat}` });
    this.render();
  }

  private say(kind: string, text: string): void {
    this.parts.status.className = `open-status ${kind}`.trim();
    this.parts.status.textContent = text;
  }

  private render(): void {
    const { wrap, select, button } = this.parts;
    wrap.hidden = this.kept.size === 0;
    const keys = [...this.kept.keys()];
    const shown = [...select.options].map((o) => o.value);
    if (keys.join('\n') !== shown.join('\n')) {
      const chosen = select.value;
      replace(select, ...[...this.kept.entries()].map(([key, k]) =>
        h('option', { attrs: { value: key }, text: `${this.parts.label(k.strategy)} · repeat ${k.repeat + 1} (${size(k.bytes)})` })));
      if (keys.includes(chosen)) select.value = chosen;
    }
    button.disabled = this.kept.size === 0 || this.pending !== null;
  }
}
