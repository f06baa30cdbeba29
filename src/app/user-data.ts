/**
 * "Your own data" on the page: a folder of class folders (dropped, or picked with a
 * `webkitdirectory` input) or a CSV/TSV table goes to the compute host, which decodes it
 * (datasets/user/browser.ts, in the worker) and answers with a summary: class counts, a few images
 * per class, the size and every problem found. The files are kept in IndexedDB (store.ts) with the
 * summary, so the dataset is in the page's catalog after a reload; the host decodes them again
 * when a run, a resume or an opened results file needs them (the content hash must match).
 */
import { BUILTIN_DATASETS, DEFAULT_TEST_FRACTION, describeDataset, withDataset, type DatasetCatalog, type DatasetDescription } from '../../datasets/catalog.ts';
import { MAX_UNLABELED_CLASSES, parseClassNames } from '../../datasets/user/layout.ts';
import { parseImageSize } from '../../datasets/user/pixels.ts';
import { h, replace } from './dom.ts';
import type { FromHost, ToHost, UserDataOptions, UserDataSummary } from './protocol.ts';
import type { ExperimentStore, StoredUserData } from './store.ts';
import { classBars, imageCanvas } from './views/asked.ts';

export interface UserDataDeps {
  store: ExperimentStore;
  /** Sends to the compute host once it is up. */
  send: (msg: ToHost) => void;
  ensure: () => Promise<unknown>;
  /** The user datasets changed (added, replaced, removed); `select` names one to choose in the form. */
  changed: (select: string | null) => void;
  /** Whether a run is in progress (the data cannot change then). */
  busy: () => boolean;
}

interface Entry {
  stored: StoredUserData;
  description: DatasetDescription;
}

/** The built-in datasets and the user's. */
export function catalogWith(user: readonly DatasetDescription[]): DatasetCatalog {
  let c = BUILTIN_DATASETS;
  for (const d of user) c = withDataset(c, d);
  return c;
}

/** The files of a dropped folder or file, with their paths relative to what was dropped. */
async function droppedFiles(items: DataTransferItemList): Promise<{ path: string; file: File }[]> {
  const out: { path: string; file: File }[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      out.push({ path, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, path);
    }
  };
  const entries = [...items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const e of entries) await walk(e, '');
  return out;
}

export class UserDataPanel {
  private readonly entries = new Map<string, Entry>();
  /** `name:hash` of the datasets the current host has decoded. */
  private readonly inHost = new Set<string>();
  private readonly pending = new Map<number, (msg: Extract<FromHost, { type: 'userData' }>) => void>();
  private seq = 0;
  private readonly status: HTMLElement;
  private readonly summaryEl: HTMLElement;
  private readonly list: HTMLElement;
  private readonly sizeInput: HTMLInputElement;
  private readonly labelInput: HTMLInputElement;
  private readonly classesInput: HTMLInputElement;
  private readonly fractionInput: HTMLInputElement;
  /** The separate test folder or table picked for the next data added (the CLI's --test), or null: hold a share out. */
  private testSet: { name: string; files: { path: string; file: Blob }[] } | null = null;
  private readonly testStatus: HTMLElement;
  private readonly testClear: HTMLButtonElement;
  private readonly inputs: HTMLInputElement[];

  constructor(root: HTMLElement, private readonly deps: UserDataDeps) {
    const folder = h('input', { id: 'data-folder', class: 'visually-hidden', attrs: { type: 'file', webkitdirectory: true, multiple: true, 'aria-describedby': 'data-help' } });
    const table = h('input', { id: 'data-table', class: 'visually-hidden', attrs: { type: 'file', accept: '.csv,.tsv,.tab,.txt,text/csv,text/tab-separated-values', 'aria-describedby': 'data-help' } });
    this.inputs = [folder, table];
    this.sizeInput = h('input', { id: 'data-size', attrs: { type: 'text', value: '28x28x1', size: 8, 'aria-describedby': 'data-help' } });
    this.labelInput = h('input', { id: 'data-label', attrs: { type: 'text', placeholder: 'label, class, target, y, or the last', size: 14 } });
    this.classesInput = h('input', { id: 'data-classes', attrs: { type: 'text', placeholder: 'cat, dog, bird', size: 18, 'aria-describedby': 'data-classes-help' } });
    this.fractionInput = h('input', { id: 'data-test-fraction', attrs: { type: 'number', value: String(DEFAULT_TEST_FRACTION), min: 0.01, max: 0.99, step: 0.05, 'aria-describedby': 'data-help' } });
    const testFolder = h('input', { id: 'data-test-folder', class: 'visually-hidden', attrs: { type: 'file', webkitdirectory: true, multiple: true, 'aria-describedby': 'data-test-status' } });
    const testTable = h('input', { id: 'data-test-table', class: 'visually-hidden', attrs: { type: 'file', accept: '.csv,.tsv,.tab,.txt,text/csv,text/tab-separated-values', 'aria-describedby': 'data-test-status' } });
    this.testStatus = h('span', { id: 'data-test-status', class: 'help', attrs: { 'aria-live': 'polite' } });
    this.testClear = h('button', { id: 'data-test-clear', class: 'link-button', text: 'Clear', attrs: { type: 'button', hidden: true, 'aria-label': 'Clear the test set: hold a share out instead' }, on: { click: () => this.setTest(null) } });
    this.status = h('p', { id: 'data-status', class: 'help', attrs: { 'aria-live': 'polite' } });
    this.summaryEl = h('div', { id: 'data-summary', class: 'data-summary' });
    this.list = h('ul', { id: 'data-list', class: 'data-list' });
    const zone = h('div', { id: 'data-drop', class: 'drop-zone', attrs: { tabindex: 0 } },
      h('p', { text: 'Drop a folder of class folders (PNG, JPEG, WebP) or a CSV/TSV table here, or pick one:' }),
      h('label', { class: 'file-button', text: 'Folder…' }, folder),
      ' ',
      h('label', { class: 'file-button', text: 'Table…' }, table));
    replace(root,
      zone,
      h('div', { class: 'data-options' },
        h('label', { attrs: { for: 'data-size' }, text: 'Image size ' }), this.sizeInput, ' ',
        h('label', { attrs: { for: 'data-label' }, text: 'Label column ' }), this.labelInput, ' ',
        h('label', { attrs: { for: 'data-classes' }, text: 'Classes ' }), this.classesInput),
      h('div', { class: 'data-options' },
        h('label', { attrs: { for: 'data-test-fraction' }, text: 'Test fraction ' }), this.fractionInput, ' or a separate test set: ',
        h('label', { class: 'file-button', text: 'Test folder…' }, testFolder), ' ',
        h('label', { class: 'file-button', text: 'Test table…' }, testTable), ' ',
        this.testStatus, ' ', this.testClear),
      h('p', { id: 'data-classes-help', class: 'help', text: `A folder of images with no class folders has no labels: name its classes here (2 to ${MAX_UNLABELED_CLASSES}, separated by commas; the first is key 0) before adding it, and label it yourself in "Label it yourself". It has no test set, so no accuracy is shown.` }),
      h('p', { id: 'data-help', class: 'help', text: 'Images are resized to H x W x C (1: grayscale as luminance, 3: RGB); the test fraction of the rows (stratified, seeded; default 0.2) is held out as the test set, unless you pick a separate test folder or table (of the same classes, or the same columns) before adding the data. Nothing leaves this browser: the files are decoded in the worker and kept in this browser\'s storage.' }),
      this.status, this.summaryEl, this.list);
    const picked = (input: HTMLInputElement) => {
      const files = [...(input.files ?? [])].map((f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob }));
      input.value = '';
      void this.add(files);
    };
    folder.addEventListener('change', () => picked(folder));
    table.addEventListener('change', () => picked(table));
    const pickedTest = (input: HTMLInputElement) => {
      const files = [...(input.files ?? [])].map((f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob }));
      input.value = '';
      this.setTest(files.length ? { name: files.length === 1 && !files[0]!.path.includes('/') ? files[0]!.path : files[0]!.path.split('/')[0]!, files } : null);
    };
    testFolder.addEventListener('change', () => pickedTest(testFolder));
    testTable.addEventListener('change', () => pickedTest(testTable));
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const items = e.dataTransfer?.items;
      if (!items) return;
      droppedFiles(items).then((files) => this.add(files), (err: unknown) => this.say('error', `The dropped files could not be read: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  /** Reads the kept datasets (storage problems are shown; the page works on without them). */
  async boot(): Promise<void> {
    try {
      for (const e of await this.deps.store.userData()) this.entries.set(e.stored.name, e);
    } catch (err) {
      this.say('error', `Your kept datasets could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.renderList();
  }

  /** The user datasets' catalog entries. */
  descriptions(): DatasetDescription[] {
    return [...this.entries.values()].map((e) => e.description);
  }

  /** The kept dataset named `name`, if any. */
  get(name: string): { name: string; hash: string } | null {
    const e = this.entries.get(name);
    return e ? { name, hash: e.stored.hash } : null;
  }

  /** Shows the summary of a kept dataset (the form's choice), or nothing for a built-in one. */
  show(name: string): void {
    const e = this.entries.get(name);
    if (e) this.renderSummary(e.stored.summary, e.stored.options);
    else replace(this.summaryEl);
  }

  /** The host restarted (or crashed): it has no user data until sent again. */
  hostLost(): void {
    this.inHost.clear();
  }

  /** Handles the host's `userData` answers; false for other messages. */
  onMessage(msg: FromHost): boolean {
    if (msg.type !== 'userData') return false;
    this.pending.get(msg.id)?.(msg);
    this.pending.delete(msg.id);
    return true;
  }

  /**
   * Makes sure the host has decoded the kept dataset `name` with content `hash`; resolves with
   * null, or with why it cannot (not kept here, or the files now decode to other content).
   */
  async ensureInHost(name: string, hash: string | null = null): Promise<string | null> {
    const e = this.entries.get(name);
    if (!e) return `'${name}' is your own data, which this browser does not keep: add its folder or table under "Your own data"`;
    if (hash !== null && e.stored.hash !== hash) return `this browser keeps other data under the name '${name}' (hash ${e.stored.hash.slice(0, 16)}…, not ${hash.slice(0, 16)}…): add the folder or table it was made on under "Your own data"`;
    if (this.inHost.has(`${name}:${e.stored.hash}`)) return null;
    const reply = await this.decode(e.stored.data, e.stored.files, e.stored.options);
    if (reply.error !== null || !reply.summary) return `'${name}' could not be read again: ${reply.error ?? 'no summary'}`;
    if (reply.summary.description.hash !== e.stored.hash) return `the kept files of '${name}' now decode to other content (hash ${reply.summary.description.hash.slice(0, 16)}…, kept ${e.stored.hash.slice(0, 16)}…): remove it and add it again`;
    this.inHost.add(`${name}:${e.stored.hash}`);
    return null;
  }

  private async decode(data: string, files: StoredUserData['files'], options: UserDataOptions): Promise<Extract<FromHost, { type: 'userData' }>> {
    await this.deps.ensure();
    const id = ++this.seq;
    const reply = new Promise<Extract<FromHost, { type: 'userData' }>>((resolve) => this.pending.set(id, resolve));
    this.deps.send({ type: 'userData', id, data, files, options });
    return reply;
  }

  private options(): UserDataOptions | string {
    const size = parseImageSize(this.sizeInput.value.trim() || '28x28x1');
    if (typeof size === 'string') return `Image size: ${size}`;
    const label = this.labelInput.value.trim();
    const named = this.classesInput.value.trim();
    const classes = named ? parseClassNames(named) : null;
    if (typeof classes === 'string') return `Classes: ${classes}`;
    const split: Pick<UserDataOptions, 'test' | 'testFraction'> = {};
    if (this.testSet) split.test = this.testSet.name;
    else {
      const f = Number(this.fractionInput.value.trim() || DEFAULT_TEST_FRACTION);
      if (!(Number.isFinite(f) && f > 0 && f < 1)) return `Test fraction: a number between 0 and 1 (exclusive), not '${this.fractionInput.value}'`;
      split.testFraction = f;
    }
    return { imageSize: [size[0], size[1], size[2]], ...(label ? { labelColumn: label } : {}), classes, ...split };
  }

  /** Sends picked or dropped files to the host; shows the summary, keeps the data, offers it in the form. */
  async add(files: { path: string; file: Blob }[]): Promise<void> {
    if (this.deps.busy()) {
      this.say('error', 'A run is in progress: add your data when it has ended.');
      return;
    }
    if (files.length === 0) {
      this.say('error', 'No files: the folder or selection is empty.');
      return;
    }
    const options = this.options();
    if (typeof options === 'string') {
      this.say('error', options);
      return;
    }
    // A folder's files share its name as the first part of their paths; a table is one file.
    const first = files[0]!.path.split('/')[0]!;
    const data = files.length === 1 && !files[0]!.path.includes('/') ? files[0]!.path : first;
    if (this.testSet) {
      if (this.testSet.name === data) {
        this.say('error', `Could not use ${data}: the test set has the same name (${data}) as the data; rename one of them`);
        return;
      }
      // The test set's files travel with the data's, under their own name (the CLI's --test).
      files = [...files, ...this.testSet.files];
    }
    this.say('busy', `Reading ${data} (${files.length} file${files.length === 1 ? '' : 's'})…`);
    replace(this.summaryEl);
    let reply: Extract<FromHost, { type: 'userData' }>;
    try {
      reply = await this.decode(data, files, options);
    } catch (err) {
      this.say('error', `Could not read ${data}: the engine could not start (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    if (reply.error !== null || !reply.summary) {
      this.say('error', `Could not use ${data}: ${reply.error ?? 'no summary'}`);
      return;
    }
    const summary = reply.summary;
    const d = summary.description;
    let description: DatasetDescription;
    try {
      description = describeDataset(d);
      withDataset(catalogWith(this.descriptions().filter((x) => x.name !== d.name)), description);
    } catch (err) {
      this.say('error', `Could not use ${data}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const stored: StoredUserData = { name: d.name, hash: d.hash, data, options, files, summary, storedAt: new Date().toISOString() };
    this.entries.set(d.name, { stored, description });
    this.inHost.add(`${d.name}:${d.hash}`);
    if (this.testSet) this.setTest(null); // used: the next data holds its share out unless given one again
    this.renderSummary(summary, options);
    this.renderList();
    this.deps.changed(d.name);
    try {
      await this.deps.store.putUserData(stored);
      this.say('ok', `Added ${d.name}: choose it as the dataset (it is chosen now) and press Run. It is kept in this browser.`);
    } catch (err) {
      this.say('error', `Added ${d.name} for this visit, but it could not be kept in this browser's storage (${err instanceof Error ? err.message : String(err)}): after a reload, add it again.`);
    }
  }

  private async remove(name: string): Promise<void> {
    if (this.deps.busy()) {
      this.say('error', 'A run is in progress: remove data when it has ended.');
      return;
    }
    this.entries.delete(name);
    this.renderList();
    replace(this.summaryEl);
    this.deps.changed(null);
    try {
      await this.deps.store.removeUserData(name);
      this.say('ok', `Removed ${name} from this browser.`);
    } catch (err) {
      this.say('error', `${name} could not be removed from this browser's storage: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The separate test set for the next data added, or null to hold the test fraction out. */
  private setTest(t: { name: string; files: { path: string; file: Blob }[] } | null): void {
    this.testSet = t;
    this.fractionInput.disabled = t !== null;
    this.testClear.hidden = t === null;
    this.testStatus.textContent = t ? `Test set: ${t.name} (${t.files.length} file${t.files.length === 1 ? '' : 's'}), used when you add the data.` : '';
  }

  private say(kind: 'busy' | 'ok' | 'error', text: string): void {
    this.status.textContent = text;
    this.status.dataset.state = kind;
    this.status.classList.toggle('error', kind === 'error');
    if (kind === 'error') this.status.setAttribute('role', 'alert');
    else this.status.removeAttribute('role');
  }

  private renderList(): void {
    replace(this.list, ...[...this.entries.values()].map((e) => {
      const d = e.description;
      return h('li', { data: { dataset: d.name } },
        h('span', { text: `${d.name}: ${d.kind === 'image' ? `${d.shape.join('x')} images` : `${d.shape[0]} features`}, ${d.numClasses} classes${d.unlabeled ? ' (no labels)' : ''}, ${d.sizes.train + d.sizes.test} rows ` }),
        h('button', { class: 'link-button', text: 'Remove', attrs: { type: 'button', 'aria-label': `Remove ${d.name}` }, on: { click: () => void this.remove(d.name) } }));
    }));
  }

  private renderSummary(s: UserDataSummary, options: UserDataOptions | null): void {
    const d = s.description;
    if (d.unlabeled) {
      this.renderUnlabeledSummary(s);
      return;
    }
    const total = s.classCounts.reduce((a, b) => a + b, 0);
    const grid = s.samples
      ? h('div', { class: 'data-samples' }, ...d.classNames.map((name, c) => {
          const idx = [...s.samples!.labels.keys()].filter((i) => s.samples!.labels[i] === c);
          return h('div', { class: 'data-class', data: { cls: name } },
            h('span', { class: 'data-class-name', text: `${name} (${s.classCounts[c]})` }),
            ...idx.map((i) => imageCanvas(s.samples!.pixels, i, d.shape, 28, false)));
        }))
      : h('p', { class: 'help', text: `Features: ${(s.featureNames ?? []).join(', ')}` });
    replace(this.summaryEl,
      h('h3', { text: `${d.name}` }),
      h('p', { class: 'data-size', text: `${total} ${d.kind === 'image' ? `images of ${d.shape.join('x')}` : `rows of ${d.shape[0]} features`}, ${d.classNames.length} classes; ${d.sizes.train} to train on (the pool), ${d.sizes.test} to test (${options?.test ? `the test set ${options.test}` : `test fraction ${options?.testFraction ?? DEFAULT_TEST_FRACTION}, held out stratified`}); hash ${d.hash.slice(0, 16)}…` }),
      h('ul', { class: 'data-counts' }, ...d.classNames.map((name, c) => h('li', { text: `${name}: ${s.classCounts[c]}` }))),
      classBars(s.classCounts, d.classNames, '#4c78a8'),
      grid,
      s.warnings.length
        ? h('div', { class: 'data-warnings', attrs: { role: 'status' } },
            h('p', { text: `${s.warnings.length} problem${s.warnings.length === 1 ? '' : 's'} found (the run uses the rest):` }),
            h('ul', {}, ...s.warnings.map((w) => h('li', { text: w }))))
        : h('p', { class: 'help', text: 'No problems found.' }));
  }

  /** Images without labels: how many, the classes named, a few of them, and how they are labeled. */
  private renderUnlabeledSummary(s: UserDataSummary): void {
    const d = s.description;
    const n = d.sizes.train;
    replace(this.summaryEl,
      h('h3', { text: `${d.name}` }),
      h('p', { class: 'data-size', text: `${n} images of ${d.shape.join('x')}, no labels; classes you named: ${d.classNames.map((c, i) => `${c} (key ${i})`).join(', ')}; no test set (accuracy needs labeled test data); hash ${d.hash.slice(0, 16)}…` }),
      h('p', { class: 'help data-unlabeled', text: 'Taken only by "Label it yourself": choose it there and label the images the model asks about, starting with a random initial set.' }),
      s.samples ? h('div', { class: 'data-samples' }, h('div', { class: 'data-class', data: { cls: '' } },
        h('span', { class: 'data-class-name', text: 'first images' }),
        ...Array.from({ length: s.samples.labels.length }, (_, i) => imageCanvas(s.samples!.pixels, i, d.shape, 28, false)))) : null,
      s.warnings.length
        ? h('div', { class: 'data-warnings', attrs: { role: 'status' } },
            h('p', { text: `${s.warnings.length} problem${s.warnings.length === 1 ? '' : 's'} found (the run uses the rest):` }),
            h('ul', {}, ...s.warnings.map((w) => h('li', { text: w }))))
        : h('p', { class: 'help', text: 'No problems found.' }));
  }
}
