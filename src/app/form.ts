/**
 * The configuration form: one labelled control per config field, grouped, with the help text and
 * an error line under each (filled with resolveConfig's ConfigError message for that field).
 */
import { STRATEGY_COLORS } from '../charts/learning-curve.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import { h, replace } from './dom.ts';
import { FIELD_KEYS, FIELDS, GROUPS, parseValue, type ConfigKey, type FieldSpec, type GroupName, type RawConfig } from './fields.ts';
import type { Catalog } from './protocol.ts';

export interface FormRead {
  config: RawConfig;
  /** Problems found before the engine sees the values (e.g. text that is not a number). */
  problems: Partial<Record<ConfigKey, string>>;
}

interface Control {
  key: ConfigKey;
  /** The element a label points at and that carries aria-invalid. */
  focus: HTMLElement;
  wrap: HTMLElement;
  error: HTMLElement;
  read(): { value: unknown } | { problem: string };
  write(v: unknown): void;
  setDisabled(d: boolean): void;
}

export class ConfigForm {
  readonly element: HTMLFormElement;
  private readonly controls = new Map<ConfigKey, Control>();
  private readonly more: HTMLDetailsElement;
  private readonly generalError: HTMLElement;
  private readonly notes = new Map<ConfigKey, HTMLElement>();
  /** Rebuilds the dataset select's options from the catalog (keeping the choice when it is still there). */
  refreshDatasets: () => void = () => undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly onChange: (changed: ConfigKey) => void,
  ) {
    this.generalError = h('p', { class: 'field-error general', id: 'err-general', attrs: { 'aria-live': 'polite' } });
    this.more = h('details', { class: 'more' }, h('summary', { text: 'More settings' }));
    const groups = new Map<GroupName, HTMLFieldSetElement>();
    const moreGroups = new Map<GroupName, HTMLFieldSetElement>();
    for (const g of Object.keys(GROUPS) as GroupName[]) {
      groups.set(g, h('fieldset', { class: `group group-${g}` }, h('legend', { text: GROUPS[g] })));
      moreGroups.set(g, h('fieldset', { class: `group group-${g}` }, h('legend', { text: GROUPS[g] })));
    }
    for (const key of FIELD_KEYS) {
      const spec: FieldSpec = FIELDS[key];
      const control = this.makeControl(key, spec);
      this.controls.set(key, control);
      (spec.advanced ? moreGroups : groups).get(spec.group)!.appendChild(control.wrap);
    }
    for (const fs of moreGroups.values()) if (fs.children.length > 1) this.more.appendChild(fs);
    this.element = h('form', { class: 'config-form', id: 'config-form', attrs: { novalidate: true, 'aria-label': 'Experiment configuration' } },
      ...groups.values(), this.more, this.generalError);
    this.element.addEventListener('submit', (e) => e.preventDefault());
  }

  private makeControl(key: ConfigKey, spec: FieldSpec): Control {
    const id = `f-${key}`;
    const error = h('p', { class: 'field-error', id: `err-${key}`, attrs: { 'aria-live': 'polite' } });
    const help = h('p', { class: 'help', id: `help-${key}`, text: spec.help });
    const describedBy = `help-${key} err-${key}`;
    const changed = () => this.onChange(key);

    if (spec.kind === 'strategies') return this.strategiesControl(key, spec, help, error, changed);

    if (spec.kind === 'bool') {
      const input = h('input', { id, attrs: { type: 'checkbox', name: key, 'aria-describedby': describedBy } });
      input.addEventListener('change', changed);
      const wrap = h('div', { class: 'field field-bool', data: { field: key } },
        h('label', { class: 'check', attrs: { for: id } }, input, h('span', { text: spec.label })), help, error);
      return {
        key, focus: input, wrap, error,
        read: () => ({ value: input.checked }),
        write: (v) => (input.checked = v === true),
        setDisabled: (d) => (input.disabled = d),
      };
    }

    if (spec.kind === 'dataset' || spec.kind === 'model' || spec.kind === 'backend' || (spec.kind === 'choice' && spec.nullToken === undefined)) {
      const namesNow = (): readonly string[] =>
        spec.kind === 'dataset' ? [...this.catalog.datasets.keys()] : spec.kind === 'model' ? Object.keys(this.catalog.models) : spec.kind === 'choice' ? spec.choices ?? [] : this.catalog.backends;
      let names = namesNow();
      const options = () => names.map((n) => h('option', { text: optionText(spec.kind, n, this.catalog), attrs: { value: n } }));
      const select = h('select', { id, attrs: { name: key, 'aria-describedby': describedBy } }, ...options());
      // The catalog's datasets change when the user brings (or removes) their own data.
      if (spec.kind === 'dataset') {
        this.refreshDatasets = () => {
          const was = select.value;
          names = namesNow();
          replace(select, ...options());
          select.value = names.includes(was) ? was : names[0]!;
        };
      }
      select.addEventListener('change', changed);
      const note = h('p', { class: 'help note', id: `note-${key}` });
      this.notes.set(key, note);
      const wrap = h('div', { class: 'field', data: { field: key } }, h('label', { attrs: { for: id }, text: spec.label }), select, note, help, error);
      if (!spec.help) help.remove();
      return {
        key, focus: select, wrap, error,
        read: () => ({ value: select.value }),
        write: (v) => {
          const text = v === null || v === undefined ? names[0]! : String(v);
          if (names.includes(text)) select.value = text;
        },
        setDisabled: (d) => (select.disabled = d),
      };
    }

    if (spec.kind === 'choice') {
      // A choice that may be null: its null option first.
      const none = spec.nullToken ?? 'none';
      const values = [none, ...(spec.choices ?? [])];
      const select = h('select', { id, attrs: { name: key, 'aria-describedby': describedBy } },
        ...values.map((n) => h('option', { text: n === none ? (spec.nullText ?? n) : n, attrs: { value: n } })));
      select.addEventListener('change', changed);
      const wrap = h('div', { class: 'field', data: { field: key } }, h('label', { attrs: { for: id }, text: spec.label }), select, help, error);
      return {
        key, focus: select, wrap, error,
        read: () => parseValue(key, select.value),
        write: (v) => {
          const text = v === null || v === undefined ? none : String(v);
          if (values.includes(text)) select.value = text;
        },
        setDisabled: (d) => (select.disabled = d),
      };
    }

    const input = h('input', {
      id,
      attrs: {
        type: 'number', name: key, inputmode: spec.kind === 'int' || spec.kind === 'optInt' ? 'numeric' : 'decimal',
        min: spec.min, step: spec.step ?? (spec.kind === 'int' || spec.kind === 'optInt' ? 1 : 'any'),
        placeholder: spec.nullText, 'aria-describedby': describedBy,
      },
    });
    input.addEventListener('input', changed);
    const wrap = h('div', { class: 'field field-number', data: { field: key } }, h('label', { attrs: { for: id }, text: spec.label }), input, help, error);
    return {
      key, focus: input, wrap, error,
      read: () => {
        // A number input reports '' for text it cannot parse: tell that apart from a deliberate blank.
        if (input.value === '' && input.validity.badInput) return { problem: `${spec.label}: not a number` };
        return parseValue(key, input.value);
      },
      write: (v) => (input.value = v === null || v === undefined ? '' : String(v)),
      setDisabled: (d) => (input.disabled = d),
    };
  }

  private strategiesControl(key: ConfigKey, spec: FieldSpec, help: HTMLElement, error: HTMLElement, changed: () => void): Control {
    const boxes: HTMLInputElement[] = [];
    // The baseline last, as in the legends.
    const ordered = [...this.catalog.strategies.filter((x) => x.name !== 'random'), ...this.catalog.strategies.filter((x) => x.name === 'random')];
    const items = ordered.map((st) => {
      const id = `f-strategy-${st.name}`;
      const box = h('input', { id, attrs: { type: 'checkbox', name: 'strategy', value: st.name, 'aria-describedby': `desc-${st.name}` } });
      box.addEventListener('change', changed);
      boxes.push(box);
      const mc = st.needs.includes('mcSamples');
      return h('li', { class: 'strategy-option', data: { strategy: st.name } },
        box,
        h('label', { attrs: { for: id } },
          STRATEGY_COLORS[st.name]
            ? h('span', { class: 'swatch', style: { background: STRATEGY_COLORS[st.name]! }, attrs: { 'aria-hidden': 'true' } })
            : h('span', { class: 'swatch swatch-open', attrs: { 'aria-hidden': 'true' } }),
          h('span', { class: 'strategy-label', text: st.label }),
          st.name === 'random' ? h('span', { class: 'badge', text: 'baseline' }) : null,
          mc ? h('span', { class: 'badge badge-mc', text: 'MC dropout', title: 'Needs a model with dropout (mlp or cnn)' }) : null,
        ),
        h('div', { class: 'strategy-desc', id: `desc-${st.name}` },
          h('code', { class: 'formula', text: st.formula }),
          h('span', { text: st.description }),
        ),
      );
    });
    const list = h('ul', { class: 'strategy-list', attrs: { role: 'group', 'aria-labelledby': 'strategies-legend', 'aria-describedby': `help-${key} err-${key}` } }, ...items);
    const note = h('p', { class: 'help note', id: 'note-strategies' });
    this.notes.set(key, note);
    const wrap = h('div', { class: 'field field-strategies', data: { field: key } },
      h('p', { class: 'field-label', id: 'strategies-legend', text: spec.label }), help, list, note, error);
    return {
      key, focus: list, wrap, error,
      read: () => ({ value: boxes.filter((b) => b.checked).map((b) => b.value) }),
      write: (v) => {
        const want = new Set(Array.isArray(v) ? v.map(String) : []);
        for (const b of boxes) b.checked = want.has(b.value);
      },
      setDisabled: (d) => boxes.forEach((b) => (b.disabled = d)),
    };
  }

  /** Reads every field: raw values for the engine, plus problems found while parsing. */
  read(): FormRead {
    const config: RawConfig = {};
    const problems: FormRead['problems'] = {};
    for (const [key, c] of this.controls) {
      const r = c.read();
      if ('problem' in r) problems[key] = r.problem;
      else config[key] = r.value;
    }
    return { config, problems };
  }

  write(values: RawConfig): void {
    for (const [key, v] of Object.entries(values) as [ConfigKey, unknown][]) this.controls.get(key)?.write(v);
    this.updateNotes();
  }

  /** Shows one message per field (and a general one); clears the others. */
  showErrors(errors: Partial<Record<ConfigKey, string>>, general: string | null = null): void {
    for (const [key, c] of this.controls) {
      const msg = errors[key];
      c.error.textContent = msg ?? '';
      c.wrap.classList.toggle('invalid', !!msg);
      if (msg) c.focus.setAttribute('aria-invalid', 'true');
      else c.focus.removeAttribute('aria-invalid');
      if (msg && (FIELDS[key] as FieldSpec).advanced) this.more.open = true;
    }
    this.generalError.textContent = general ?? '';
  }

  setDisabled(disabled: boolean): void {
    for (const c of this.controls.values()) c.setDisabled(disabled);
    this.element.classList.toggle('locked', disabled);
  }

  /** Descriptions under the dataset and model selects, and the model's learning rate as the blank field's placeholder. */
  updateNotes(): void {
    const { config } = this.read();
    const ds = this.catalog.datasets.get(String(config.dataset));
    const model = this.catalog.models[String(config.model)];
    const dsNote = this.notes.get('dataset');
    if (dsNote) replace(dsNote, ds ? `${ds.description} ${ds.sizes.train.toLocaleString('en')} train / ${ds.sizes.test.toLocaleString('en')} test.` : '');
    const mNote = this.notes.get('model');
    if (mNote) replace(mNote, model?.description ?? '');
    // A blank learning rate takes the model's: say which.
    const lr = this.controls.get('learningRate')?.focus;
    if (lr instanceof HTMLInputElement) lr.placeholder = model ? `${FIELDS.learningRate.nullText} (${model.defaults.learningRate})` : FIELDS.learningRate.nullText;
    const sNote = this.notes.get('strategies');
    const chosen = Array.isArray(config.strategies) ? config.strategies : [];
    if (sNote) replace(sNote, chosen.length > 0 && !chosen.includes('random') ? 'Tip: add Random, the baseline a strategy has to beat to earn its labels.' : '');
  }

  focusField(key: ConfigKey): void {
    this.controls.get(key)?.focus.focus();
  }
}

function optionText(kind: FieldSpec['kind'], name: string, catalog: Catalog): string {
  if (kind === 'dataset') {
    const d = catalog.datasets.get(name);
    return d ? `${name} (${d.hash ? 'your own ' : ''}${d.kind === 'image' ? 'images' : d.kind === 'points' ? '2-D points' : 'tabular'}, ${d.numClasses} classes)` : name;
  }
  if (kind === 'backend') return catalog.backendInfo[name]?.label ?? name;
  return name;
}

/** The default configuration the page opens with: a meaningful MNIST comparison in a few minutes on a laptop GPU. */
export function appDefaults(catalog: Catalog): ExperimentConfig {
  const known = new Set(catalog.strategies.map((s) => s.name));
  const strategies = ['entropy', 'margin', 'bald', 'random'].filter((s) => known.has(s)) as ExperimentConfig['strategies'];
  return {
    ...catalog.defaults,
    dataset: 'mnist',
    model: 'cnn',
    strategies,
    initial: 20,
    balanced: true,
    query: 10,
    rounds: 10,
    repeats: 1,
    poolSubset: 1000,
    testSubset: 1000,
    backend: 'auto',
  };
}
