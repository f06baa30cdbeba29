/**
 * ActiveLab's page: the configuration form, run controls, and the views of a run. The main thread
 * never touches tensors: the engine runs in a Web Worker (client.ts) and sends plain data. The
 * page checks configurations (`resolveConfig`) and results files (`readResultsFile`) itself,
 * against the catalogs (catalog.ts), so the form works before the worker has started.
 */
import type { BackendChoiceRecord } from '../backend/auto-choice.ts';
import { isBackendChoice, type BackendInfo } from '../backend/catalog.ts';
import { ConfigError, resolveConfig, type ExperimentConfig } from '../engine/config.ts';
import { readResultsFile } from '../engine/results-file.ts';
import { BUILTIN_DATASETS } from '../../datasets/catalog.ts';
import { resultsToCsv, type ExperimentResults } from '../engine/results.ts';
import { appCatalog } from './catalog.ts';
import { EngineClient, type Ready } from './client.ts';
import { describeCrash, type CrashDecision } from './restart-policy.ts';
import { setStrategyOrder } from './colors.ts';
import { byId, h, replace } from './dom.ts';
import { formatValue, isConfigKey, linkQuery, parseLink, type ConfigKey, type ParsedLink, type RawConfig } from './fields.ts';
import { appDefaults, ConfigForm } from './form.ts';
import type { DatasetInfo, FieldError, FromHost, ToHost } from './protocol.ts';
import { ModelExports } from './model-export.ts';
import { LabelController } from './label-controller.ts';
import type { DrawnExample, LabelAnswer } from './labeling.ts';
import { formatDuration, RunState, type RunData } from './state.ts';
import { RunRecorder } from './recorder.ts';
import { catalogWith, UserDataPanel } from './user-data.ts';
import type { StoredExperiment, StoredRunInfo } from './store.ts';
import { renderAsked } from './views/asked.ts';
import { renderBoundaries } from './views/boundary.ts';
import { renderConfusion } from './views/confusion.ts';
import { CurvesView } from './views/curves.ts';
import { ModelPanel } from './views/model-panel.ts';
import { renderDiagnostics } from './views/diagnostics.ts';
import { renderSummary } from './views/summary.ts';

const state = new RunState();
const link: ParsedLink = parseLink(location.search);
const client = new EngineClient({ onMessage, onCrash, onRestarted }, { forcePage: link.thread === 'page' });

const catalog = appCatalog();
let form: ConfigForm | null = null;
/** Whether the compute host has said it is ready (the form works without it). */
let engineReady = false;
let thread: Ready['thread'] = 'worker';
let fallbackReason: string | null = null;
/** The last configuration resolveConfig accepted (what Run starts). */
let valid: ExperimentConfig | null = null;
let formProblems = false;
/** When the crashed worker's successor starts (null when none is scheduled). */
let restartNote: string | null = null;
/** Messages about link values, kept beside their fields until the field is edited. */
const linkErrors: Partial<Record<ConfigKey, string>> = {};
const selection = { repeat: 0, round: 0, follow: true };

// Every completed round goes to IndexedDB as it arrives (recorder.ts, store.ts).
const recorder = new RunRecorder(() => renderMessages(), () => catalog.datasets);
// "Your own data": folders and tables decoded in the host, kept in IndexedDB (user-data.ts).
const userData = new UserDataPanel(byId('own-data'), {
  store: recorder.store,
  send: (msg) => client.send(msg),
  ensure: () => client.ensure(),
  busy: () => state.running,
  changed: (select) => {
    catalog.datasets = catalogWith(userData.descriptions());
    if (!form) return;
    form.refreshDatasets();
    if (select) form.write({ dataset: select });
    onFieldChange('dataset');
  },
});
/** An earlier experiment that stopped before its end, offered for resuming. */
let offer: StoredExperiment | null = null;

function runInfos(): StoredRunInfo[] {
  return state.runs.map((r) => ({ strategy: r.strategy, repeat: r.repeat, status: r.status, ...(r.error ? { error: r.error } : {}) }));
}

/** Looks for an experiment that stopped before its end (e.g. the page was reloaded mid-run). */
async function refreshOffer(): Promise<void> {
  const found = await recorder.unfinished();
  offer = found && !state.running ? found : null;
  renderMessages();
}

const els = {
  formSlot: byId('form-slot'),
  run: byId<HTMLButtonElement>('run-btn'),
  pause: byId<HTMLButtonElement>('pause-btn'),
  stop: byId<HTMLButtonElement>('stop-btn'),
  copyLink: byId<HTMLButtonElement>('copy-link'),
  copyStatus: byId('copy-status'),
  linkNotes: byId('link-notes'),
  backendPill: byId('backend-pill'),
  threadPill: byId('thread-pill'),
  statusText: byId('status-text'),
  roundCounter: byId('round-counter'),
  timing: byId('timing'),
  progress: byId('progress'),
  progressFill: byId('progress-fill'),
  phases: byId('phases'),
  activity: byId('activity'),
  messages: byId('messages'),
  roundBar: byId('round-bar'),
  roundRange: byId<HTMLInputElement>('round-range'),
  roundValue: byId('round-value'),
  roundFollow: byId<HTMLInputElement>('round-follow'),
  repeatWrap: byId('repeat-wrap'),
  repeatSelect: byId<HTMLSelectElement>('repeat-select'),
  summary: byId('summary'),
  asked: byId('asked'),
  boundaryPanel: byId('panel-boundary'),
  boundary: byId('boundary'),
  confusion: byId('confusion'),
  diagnostics: byId('diagnostics'),
  exportJson: byId<HTMLButtonElement>('export-json'),
  exportCsv: byId<HTMLButtonElement>('export-csv'),
  exportSvg: byId<HTMLButtonElement>('export-svg'),
  exportPng: byId<HTMLButtonElement>('export-png'),
  openResults: byId<HTMLInputElement>('open-results'),
  openStatus: byId('open-status'),
};
/** The results file being opened, checked, whose rows the host is reading (replies for older requests are ignored). */
let opening: { id: number; name: string; summary: string } | null = null;
let openSeq = 0;
const curves = new CurvesView(byId('curves'));
// The Model panel (tfjs-vis): the model's layers, the live epochs, the accuracy per class.
const modelPanel = new ModelPanel(byId('model'), byId('body-model'));
// The final model of each finished run, downloadable from the summary panel (model-export.ts).
const modelExports = new ModelExports({
  wrap: byId('model-export'), select: byId<HTMLSelectElement>('model-run'), button: byId<HTMLButtonElement>('export-model'), status: byId('model-status'),
  send: (msg) => client.send(msg), download: (name, blob) => download(name, blob), label: (s) => strategyLabel(s), stem: () => fileStem(),
});

// "Label it yourself": the person is the oracle of a one-strategy run (label-controller.ts).
const labels = new LabelController({
  catalog, state, recorder,
  send: (msg) => client.send(msg),
  start: (strategy) => void startRun(null, strategy),
  canStart: () => !state.running && !!valid && (catalog.datasets.get(valid.dataset)?.numClasses ?? Infinity) <= 10,
  dataset: () => String(form?.read().config.dataset ?? valid?.dataset ?? ''),
  setDataset: (name) => {
    if (!form) return;
    form.write({ dataset: name });
    onFieldChange('dataset');
  },
  download: (name, blob) => download(name, blob),
  fileStem: () => fileStem(),
});

/** A labeling run's configuration: the form's, with one strategy and one repeat. */
function labelConfig(base: ExperimentConfig | null, strategy: string): ExperimentConfig | null {
  if (!base) return null;
  // The person is the oracle: the simulated one's noise does not apply.
  const raw = { ...base, strategies: [strategy || base.strategies[0]!], repeats: 1, oracleNoise: 0 };
  return check(raw as unknown as RawConfig).config;
}

// ---------------------------------------------------------------------------------------------
// Boot

async function boot(): Promise<void> {
  // The compute host starts meanwhile: it is needed to run, not to edit or check the form.
  const starting = client.ensure();
  setupPanels();
  setupControls();
  observeLongTasks();
  const defaults = appDefaults(catalog);
  // The kept user datasets join the catalog before the form and the link are checked against it.
  await userData.boot();
  catalog.datasets = catalogWith(userData.descriptions());
  form = new ConfigForm(catalog, onFieldChange);
  replace(els.formSlot, form.element);

  // The link's values: parsed as data, judged by resolveConfig; a value it refuses is replaced
  // by the default and its message stays beside the field.
  const fromLink: RawConfig = { ...link.config };
  let candidate: RawConfig = { ...defaults, ...fromLink };
  for (;;) {
    const { error } = check(candidate);
    const field = error?.field;
    if (!error || !field || !isConfigKey(field) || !(field in fromLink)) break;
    linkErrors[field] = `From the link: ${error.message}. Using ${formatValue(field, defaults[field]) || 'the default'} instead.`;
    delete fromLink[field];
    candidate = { ...defaults, ...fromLink };
  }
  for (const p of link.problems) {
    if (p.field) linkErrors[p.field] = p.message;
  }
  // A link to a run on the user's own data names it by name and content hash: ask for it when this browser lacks it.
  const linkData = typeof link.config.dataset === 'string' ? link.config.dataset : null;
  // (Without a hash, a name this page does not know keeps resolveConfig's message.)
  if (linkData !== null && link.dataHash !== null && !BUILTIN_DATASETS.has(linkData)) {
    const have = userData.get(linkData);
    if (!have || have.hash !== link.dataHash) {
      linkErrors.dataset = `From the link: '${linkData}' (hash ${link.dataHash.slice(0, 16)}…) is someone's own data, which this browser ${have ? 'keeps with other content' : 'does not have'}: add that folder or table under "Your own data", then open the link again.`;
    }
  }
  replace(els.linkNotes, ...link.problems.filter((p) => !p.field).map((p) => h('li', { text: p.message })));
  if (Object.keys(link.config).length > 0) {
    els.linkNotes.appendChild(h('li', { class: 'ok', text: 'Configuration loaded from the link: press Run to reproduce the run.' }));
  }
  form.write(candidate);
  userData.show(String(form.read().config.dataset));
  validateForm();
  state.status = 'idle';
  renderThread();
  renderAll();
  void refreshOffer();

  let ready: Ready;
  try {
    ready = await starting;
  } catch (err) {
    state.error = `The engine could not start: ${err instanceof Error ? err.message : String(err)}. The form still checks its values; reload the page to try again.`;
    renderMessages();
    return;
  }
  engineReady = true;
  thread = ready.thread;
  fallbackReason = ready.fallbackReason;
  renderThread();
  client.send(backendRequest());
  renderAll();
}

// ---------------------------------------------------------------------------------------------
// Validation: resolveConfig, on the page, against the catalogs

function check(config: RawConfig): { error: FieldError | null; config: ExperimentConfig | null } {
  try {
    return { error: null, config: resolveConfig(config as Partial<ExperimentConfig>, { datasets: catalog.datasets }) };
  } catch (err) {
    if (err instanceof ConfigError) return { error: { field: err.field, message: err.message }, config: null };
    return { error: { field: null, message: err instanceof Error ? err.message : String(err) }, config: null };
  }
}

function validateForm(): void {
  if (!form) return;
  const { config, problems } = form.read();
  const r = check(config);
  const errors: Partial<Record<ConfigKey, string>> = { ...linkErrors, ...problems };
  let general: string | null = null;
  if (r.error) {
    if (r.error.field && isConfigKey(r.error.field)) errors[r.error.field] = r.error.message;
    else general = r.error.message;
  }
  formProblems = Object.keys(problems).length > 0 || !!r.error;
  valid = formProblems ? null : r.config;
  form.showErrors(errors, general);
  form.updateNotes();
  if (valid) {
    const own = userData.get(valid.dataset);
    history.replaceState(null, '', linkQuery(valid, { ...(link.thread ? { thread: link.thread } : {}), ...(own ? { dataHash: own.hash } : {}) }) + location.hash);
  }
  renderButtons();
}

function onFieldChange(key: ConfigKey): void {
  delete linkErrors[key];
  if (!form) return;
  if (key === 'dataset') {
    // Keep the model compatible with the data (cnn takes images only).
    const { config } = form.read();
    userData.show(String(config.dataset));
    const ds = catalog.datasets.get(String(config.dataset));
    const model = catalog.models[String(config.model)];
    const kind = ds?.kind === 'image' ? 'image' : 'vector';
    if (ds && model && !model.inputKinds.includes(kind)) form.write({ model: 'mlp' });
    // Images without labels: nothing may be drawn or simulated from labels (engine/config.ts).
    if (ds?.unlabeled) form.write({ balanced: false, validation: 0, calibrate: false, oracleNoise: 0 });
  }
  if (key === 'backend' && !state.running) {
    const { config } = form.read();
    if (typeof config.backend === 'string' && engineReady) client.send(backendRequest());
  }
  validateForm();
}

// ---------------------------------------------------------------------------------------------
// Run control

/**
 * Starts a run of the form's configuration, or, with `from`, continues that stored experiment
 * from its completed rounds (they are shown at once; the engine computes only what is missing).
 */
async function startRun(from: StoredExperiment | null = null, labelStrategy: string | null = null): Promise<void> {
  if (!form || state.running) return;
  const human = from ? from.oracle === 'human' : labelStrategy !== null;
  let saved: LabelAnswer[] = [];
  let savedDrawn: DrawnExample[] = [];
  // Run, Continue and Resume are the user's word to go on: earlier crashes no longer count.
  client.restarts.forget();
  let keep: { runs: RunData[]; startedAt: Date } | undefined;
  let config: ExperimentConfig;
  if (from) {
    let loaded;
    try {
      loaded = await recorder.store.load(from.id);
      if (human) {
        saved = await recorder.store.labels(from.id);
        savedDrawn = await recorder.store.drawn(from.id);
      }
    } catch (err) {
      state.error = `The stored run could not be read: ${err instanceof Error ? err.message : String(err)}`;
      renderAll();
      return;
    }
    config = from.config;
    keep = {
      runs: loaded.map((r) => ({ strategy: r.strategy, repeat: r.repeat, status: r.rounds.length === config.rounds + 1 ? 'complete' : r.status === 'exhausted' ? 'exhausted' : 'running', rounds: r.rounds })),
      startedAt: new Date(from.startedAt),
    };
    form.write(config as unknown as RawConfig);
    validateForm();
    if (!valid) {
      state.error = 'The stored run\'s configuration is no longer valid here; it cannot be resumed.';
      renderAll();
      return;
    }
    offer = null;
  } else {
    const c = human ? labelConfig(valid, labelStrategy ?? '') : valid;
    if (!c) return;
    if (!human && catalog.datasets.get(c.dataset)?.unlabeled) {
      state.error = `Not started: ${c.dataset} has no labels (a folder without class folders), so it is taken only by "Label it yourself", where you give every label: start it there.`;
      renderAll();
      return;
    }
    config = c;
  }
  setStrategyOrder(config.strategies);
  state.reset(config, keep);
  modelExports.reset();
  modelPanel.reset();
  if (human) labels.begin(saved, savedDrawn);
  else labels.clear();
  if (from) state.dataset = from.dataset;
  selection.repeat = 0;
  selection.round = 0;
  selection.follow = true;
  els.roundFollow.checked = true;
  curves.empty('Waiting for the first evaluated round…');
  form.setDisabled(true);
  renderAll();
  try {
    await client.ensure();
  } catch (err) {
    state.status = 'failed';
    state.error = `The engine could not start: ${err instanceof Error ? err.message : String(err)}`;
    form.setDisabled(false);
    renderAll();
    return;
  }
  // The user's own data: the host decodes the kept files again (after a reload or a restart).
  if (userData.get(config.dataset)) {
    const why = await userData.ensureInHost(config.dataset);
    if (why) {
      state.status = 'idle';
      state.error = `Not started: ${why}`;
      form.setDisabled(false);
      renderAll();
      return;
    }
  }
  if (from) {
    recorder.continueWith(from.id, { status: 'running', runs: runInfos() });
    const runs = state.runs.filter((r) => r.rounds.length > 0).map((r) => ({
      strategy: r.strategy, repeat: r.repeat, status: r.status === 'running' ? 'aborted' as const : r.status, rounds: r.rounds.map((d) => d.record),
    }));
    state.notes.push(`Resuming the run started ${from.startedAt.slice(0, 16).replace('T', ' ')} UTC: its ${state.done} completed rounds are kept.`);
    client.send({ type: 'run', config: { ...config }, resume: { config, runs }, ...(human ? { human } : {}) });
  } else {
    recorder.begin({ config, dataset: null, status: 'running', total: state.total, done: 0, runs: [], ...(human ? { oracle: 'human' as const } : {}) });
    offer = null;
    client.send({ type: 'run', config: { ...config }, ...(human ? { human } : {}) });
  }
  renderAll();
}

function togglePause(): void {
  if (state.status === 'paused' || state.status === 'pausing') {
    client.send({ type: 'resume' });
    state.status = 'running';
  } else if (state.status === 'running') {
    client.send({ type: 'pause' });
    state.status = 'pausing';
  }
  renderStatus();
}

function stopRun(): void {
  if (!state.running) return;
  client.send({ type: 'stop' });
  state.status = 'stopping';
  renderStatus();
}

// ---------------------------------------------------------------------------------------------
// Messages from the host

function onMessage(msg: FromHost): void {
  if (modelExports.onMessage(msg)) return;
  if (userData.onMessage(msg)) return;
  if (labels.onMessage(msg)) return;
  switch (msg.type) {
    case 'ready':
      break;
    case 'backend':
      if (msg.info) state.backend = msg.info;
      if (msg.info) state.backendChoice = msg.choice ?? null;
      renderBackend(msg.info, msg.error, msg.choice ?? null);
      break;
    case 'status':
      state.statusMessage = msg.message;
      // Before a run, the only work is the automatic backend choice: the pill says what it measures.
      if (!state.running && els.backendPill.dataset.backend === '') els.backendPill.textContent = `backend: ${msg.message}…`;
      renderStatus();
      break;
    case 'dataset':
      state.dataset = msg.info;
      recorder.update({ dataset: msg.info });
      els.boundaryPanel.hidden = msg.info.kind !== 'points';
      scheduleRender();
      break;
    case 'modelSummary':
      modelPanel.setSummary(msg.summary);
      break;
    case 'memory':
      state.tensors[msg.when] = msg.numTensors;
      renderDiagnosticsPanel();
      break;
    case 'paused':
      if (state.status === 'pausing' || state.status === 'running') state.status = 'paused';
      renderStatus();
      break;
    case 'resumed':
      if (state.status === 'paused') state.status = 'running';
      renderStatus();
      break;
    case 'notice':
      (msg.level === 'warning' ? state.warnings : state.notes).push(msg.message);
      renderMessages();
      break;
    case 'event': {
      const what = state.apply(msg.event);
      const e = msg.event;
      if (e.type === 'epoch') modelPanel.epoch(e);
      if (e.type === 'round') {
        const data = state.runs.find((r) => r.strategy === e.strategy && r.repeat === e.repeat)?.rounds.at(-1);
        if (data) {
          // The progress as of this round, taken now: the write may run after later rounds are in.
          const progress = { done: state.done, total: state.total, runs: runInfos() };
          recorder.write((store, id) => store.addRound(id, e.strategy, e.repeat, data, progress));
        }
      } else if (e.type === 'run') {
        recorder.update({ runs: runInfos() });
      } else if (e.type === 'end') {
        recorder.update({ status: e.results.status, runs: runInfos() });
      }
      if (what === 'activity') renderStatusThrottled();
      else if (what === 'warning') renderMessages();
      else {
        if (what === 'round' && selection.follow && msg.event.type === 'round') {
          selection.repeat = msg.event.repeat;
          selection.round = msg.event.record.round;
        }
        scheduleRender();
      }
      break;
    }
    case 'rejected':
      if (state.status !== 'idle') state.status = state.runs.length ? 'aborted' : 'idle';
      if (msg.error.field && isConfigKey(msg.error.field) && form) form.showErrors({ ...linkErrors, [msg.error.field]: msg.error.message });
      state.error = `Not started: ${msg.error.message}`;
      renderAll();
      break;
    case 'failed':
      state.status = 'failed';
      state.error = `The run failed: ${msg.message}. ${msg.results ? 'Every round completed before the failure is kept.' : ''}`.trim();
      if (msg.results) state.results = msg.results;
      recorder.update({ status: 'failed', runs: runInfos() });
      scheduleRender();
      break;
    case 'rows':
      if (opening?.id !== msg.id || state.source !== 'file') break;
      state.setQueried(msg.queried);
      setOpenStatus('ok', opening.summary);
      opening = null;
      scheduleRender();
      break;
    case 'rowsFailed':
      if (opening?.id !== msg.id || state.source !== 'file') break;
      setOpenStatus('ok', `${opening.summary} Its examples could not be shown: ${msg.message}`);
      opening = null;
      break;
    case 'idle':
      if (state.running) state.status = state.runs.length ? 'aborted' : 'idle';
      form?.setDisabled(false);
      recorder.ended();
      labels.ended();
      renderAll();
      void refreshOffer(); // a run that ended early can be continued
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Open results: a results JSON exported by ActiveLab, checked here (readResultsFile), shown in the
// same views as a finished run; the host only reads the labels and pixels of the rows it selected.
// File names and contents only ever reach the page as text.

async function openResultsFile(file: File): Promise<void> {
  if (state.running) return;
  const id = ++openSeq;
  opening = null;
  setOpenStatus('busy', `Checking ${file.name}…`);
  let results: ExperimentResults;
  try {
    // Read against the built-in datasets: a file made on the user's own data brings its description, checked below.
    results = await readResultsFile(file, { datasets: BUILTIN_DATASETS });
  } catch (err) {
    if (id === openSeq) setOpenStatus('error', `Could not open ${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (id !== openSeq) return;
  const own = results.dataset ?? null;
  if (own) {
    // Made on the user's own data: shown when this browser keeps the same data (name and content hash).
    const why = await userData.ensureInHost(own.name, own.hash);
    if (id !== openSeq) return;
    if (why) {
      setOpenStatus('error', `Could not open ${file.name}: it was made on your own data '${own.name}' (hash ${own.hash.slice(0, 16)}…); ${why}`);
      return;
    }
  }
  if (!showOpened(results, file.name)) return;
  const c = results.config;
  opening = { id, name: file.name, summary: `Opened ${file.name}: ${c.dataset} · ${c.model}, ${results.runs.length} run${results.runs.length === 1 ? '' : 's'} (${results.status}).` };
  setOpenStatus('busy', `Opened ${file.name}; loading the examples its rounds selected…`);
  const selected = results.runs.map((run) => run.rounds.map((r) => r.selected));
  client.ensure().then(
    () => client.send({ type: 'rows', id, dataset: c.dataset, seed: c.seed, selected }),
    (err: unknown) => {
      if (opening?.id !== id) return;
      setOpenStatus('ok', `${opening.summary} Its examples could not be shown: the engine could not start (${err instanceof Error ? err.message : String(err)})`);
      opening = null;
    },
  );
}

function setOpenStatus(kind: 'busy' | 'ok' | 'error', text: string): void {
  els.openStatus.textContent = text;
  els.openStatus.dataset.state = kind;
  els.openStatus.classList.toggle('error', kind === 'error');
  els.openStatus.classList.toggle('ok', kind === 'ok');
  if (kind === 'error') els.openStatus.setAttribute('role', 'alert');
  else els.openStatus.removeAttribute('role');
}

/** Shows checked results like a finished run (their selected rows follow from the host). */
function showOpened(results: ExperimentResults, name: string): boolean {
  if (state.running) {
    setOpenStatus('error', `Could not open ${name}: a run started meanwhile.`);
    return false;
  }
  const d = catalog.datasets.get(results.config.dataset)!;
  const info: DatasetInfo = {
    name: d.name, kind: d.kind, shape: [...d.shape], numClasses: d.numClasses, classNames: [...d.classNames],
    trainSize: d.sizes.train, testSize: d.sizes.test, points: null, grid: null,
  };
  setStrategyOrder(results.config.strategies);
  state.load(results, info, name);
  labels.clear();
  modelExports.reset();
  modelPanel.reset();
  const last = results.runs.find((r) => r.repeat === 0)?.rounds.length ?? 1;
  selection.repeat = 0;
  selection.round = Math.max(0, last - 1);
  selection.follow = false;
  els.roundFollow.checked = false;
  // A results file keeps no decision-boundary grids.
  els.boundaryPanel.hidden = true;
  curves.empty('Drawing the learning curves of the opened results…');
  // Its configuration fills the form, so Run repeats it.
  if (form) {
    form.write(results.config as unknown as RawConfig);
    validateForm();
  }
  renderAll();
  return true;
}

function onCrash(message: string, next: CrashDecision): void {
  modelExports.reset(); // the worker's models went with it
  userData.hostLost(); // and the user data it had decoded
  const wasRunning = state.running;
  const rounds = state.runs.reduce((a, r) => a + r.rounds.length, 0);
  ({ error: state.error, note: restartNote } = describeCrash(message, next, rounds));
  if (wasRunning) {
    recorder.ended();
    labels.ended();
    state.status = 'failed';
    recorder.update({ status: 'failed', runs: runInfos() });
    void refreshOffer();
  }
  form?.setDisabled(false);
  renderBackend(null, next.restart ? null : 'the compute worker stopped after repeated crashes');
  renderAll();
}

/** A new host is up after a crash (restarted by the policy, or by Continue): the backend badge works again. */
function onRestarted(result: { ready: Ready } | { error: string }): void {
  restartNote = null;
  userData.hostLost();
  if ('error' in result) {
    state.error = `${state.error ?? ''} The engine could not restart: ${result.error}`;
    renderMessages();
    return;
  }
  thread = result.ready.thread;
  fallbackReason = result.ready.fallbackReason;
  renderThread();
  client.send(backendRequest());
}

/**
 * The form's backend as a message to the host: 'auto' measures the form's model at its batch and
 * chunk sizes (the defaults' where the form does not check yet).
 */
function backendRequest(): ToHost {
  const raw = form?.read().config ?? {};
  const c = (form ? check(raw).config : null) ?? appDefaults(catalog);
  const name = typeof raw.backend === 'string' && isBackendChoice(raw.backend) ? raw.backend : 'auto';
  if (name === 'auto' && els.backendPill) {
    els.backendPill.textContent = 'backend: choosing the fastest…';
    els.backendPill.dataset.backend = '';
  }
  return { type: 'backend', name, workload: { dataset: c.dataset, model: c.model, batchSize: c.batchSize, chunkSize: c.chunkSize } };
}

/** Continue, after the restarts were spent and no run is there to resume: start a new worker. */
function restartEngine(): void {
  client.restarts.forget();
  state.error = null;
  renderAll();
  client.ensure().then((ready) => onRestarted({ ready }), (err: unknown) => onRestarted({ error: err instanceof Error ? err.message : String(err) }));
}

// ---------------------------------------------------------------------------------------------
// Rendering

/**
 * While a run goes, the results (chart, queried examples, confusion matrices, model panel) are
 * redrawn at most once per RESULTS_REDRAW_MS; status, progress and the round bar every frame. A
 * small run on wasm completes several rounds a second, and redrawing every view for each kept the
 * page's main thread busy most of the run (measured in Chromium here: 85% of a 30-round run), so
 * that clicks waited. When the run ends, pauses or stops, the next redraw draws everything.
 */
const RESULTS_REDRAW_MS = 1000;
let resultsDrawnAt = -Infinity;
let resultsTimer: ReturnType<typeof setTimeout> | null = null;

let renderQueued = false;
/** Coalesces redraws to one per frame (or per 250 ms in a hidden tab, where frames stop). */
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  const run = () => {
    renderQueued = false;
    renderAll(true);
  };
  if (document.visibilityState === 'hidden') setTimeout(run, 250);
  else requestAnimationFrame(run);
}

/** Redraws the page; `throttled`: the results only if RESULTS_REDRAW_MS have passed (else later). */
function renderAll(throttled = false): void {
  renderStatus();
  renderMessages();
  renderButtons();
  renderRoundBar();
  const wait = throttled && state.status === 'running' ? resultsDrawnAt + RESULTS_REDRAW_MS - performance.now() : 0;
  if (wait <= 0) renderResults();
  else resultsTimer ??= setTimeout(() => {
    resultsTimer = null;
    scheduleRender();
  }, wait);
  renderDiagnosticsPanel();
  labels.render();
}

function renderResults(): void {
  resultsDrawnAt = performance.now();
  if (resultsTimer !== null) clearTimeout(resultsTimer);
  resultsTimer = null;
  const config = state.config;
  const records = state.records();
  if (config && records.length > 0) void curves.update(records, config);
  modelPanel.update(state.runs, state.dataset, catalog.strategies, selection);
  renderSummary(els.summary, state.summary(), state.runs, catalog.strategies, config?.target ?? 0.8, config?.rounds ?? 0);
  const ds = state.dataset;
  if (ds) {
    renderAsked(els.asked, state.runs, ds, catalog.strategies, selection);
    renderConfusion(els.confusion, state.runs, ds, catalog.strategies, selection);
    if (ds.kind === 'points') renderBoundaries(els.boundary, state.runs, ds, catalog.strategies, selection);
  } else {
    replace(els.asked, h('p', { class: 'empty', text: 'Run an experiment to see, round by round, the examples each strategy asked to have labeled, the scores of the pool and the class balance of what it labeled.' }));
    replace(els.confusion, h('p', { class: 'empty', text: "Each strategy's confusion matrix on the test subset appears here." }));
  }
  const has = state.exportable() !== null;
  els.exportJson.disabled = !has;
  els.exportCsv.disabled = !has;
  els.exportSvg.disabled = records.length === 0;
  els.exportPng.disabled = records.length === 0;
}

const STATUS_TEXT: Record<string, string> = {
  idle: 'Ready: choose a configuration and press Run.',
  running: 'Running',
  pausing: 'Pausing after the current step…',
  paused: 'Paused: press Resume to continue.',
  stopping: 'Stopping after the current step…',
};

function renderStatus(): void {
  const st = state.status;
  const rounds = state.runs.reduce((a, r) => a + r.rounds.length, 0);
  let text: string;
  if (state.source === 'file' && state.results) text = `Opened ${state.fileName ?? 'a results file'}: ${state.results.status === 'complete' ? 'a finished' : `an ${state.results.status === 'aborted' ? 'aborted' : 'failed'}`} run of ${rounds} rounds, started ${state.results.startedAt}.`;
  else if (st === 'starting') text = `Starting: ${state.statusMessage}…`;
  else if (st === 'complete') text = `Finished: ${rounds} rounds in ${formatDuration(state.results?.elapsedMs ?? performance.now() - state.t0)}.`;
  else if (st === 'aborted') text = `Stopped: the ${rounds} completed round${rounds === 1 ? ' is' : 's are'} kept.`;
  else if (st === 'failed') text = `Failed after ${rounds} completed round${rounds === 1 ? '' : 's'}.`;
  else text = STATUS_TEXT[st] ?? st;
  els.statusText.textContent = text;
  // Set only when changed: the page's styles select on these, and a write restyles the page.
  if (els.statusText.dataset.status !== st) els.statusText.dataset.status = st;
  if (document.body.dataset.status !== st) document.body.dataset.status = st;
  if (document.body.dataset.source !== state.source) document.body.dataset.source = state.source;

  const frac = state.total > 0 ? state.fractionalDone() / state.total : 0;
  const pct = Math.round(frac * 100);
  els.progressFill.style.transform = `scaleX(${frac.toFixed(4)})`;
  els.progress.setAttribute('aria-valuenow', String(pct));
  els.progress.dataset.done = String(state.done);
  els.progress.dataset.total = String(state.total);

  const a = state.activity;
  const c = state.config;
  if (c && a && state.running) {
    els.roundCounter.textContent = `Round ${a.round} of ${c.rounds} · ${strategyLabel(a.strategy)}${c.repeats > 1 ? ` · repeat ${a.repeat + 1} of ${c.repeats}` : ''} · ${state.done}/${state.total} evaluations`;
  } else if (c && state.total) {
    els.roundCounter.textContent = `${state.done}/${state.total} evaluations`;
  } else {
    els.roundCounter.textContent = '';
  }
  const elapsed = state.startedAt ? (state.running ? performance.now() - state.t0 : state.results?.elapsedMs ?? performance.now() - state.t0) : null;
  els.timing.textContent = state.running
    ? `${formatDuration(elapsed)} elapsed · ETA ${state.status === 'paused' ? 'paused' : state.eta() === null ? 'estimating…' : formatDuration(state.eta())}`
    : elapsed !== null && st !== 'idle' ? `${formatDuration(elapsed)} elapsed` : '';

  for (const li of els.phases.querySelectorAll<HTMLElement>('li')) {
    const active = !!a && state.running && li.dataset.phase === a.phase;
    li.classList.toggle('active', active);
    if (active) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  }
  els.phases.hidden = !state.running;
  if (a && state.running) {
    const ep = a.phase === 'train' && a.epoch !== null ? `: epoch ${a.epoch + 1} of ${a.epochs}, training loss ${a.loss?.toFixed(3)}` : '';
    els.activity.textContent = `${strategyLabel(a.strategy)}, round ${a.round}: ${a.phase}${ep}`;
  } else {
    els.activity.textContent = '';
  }
  renderButtons();
}

/** How often the phase, epoch and progress redraw while a run goes (each redraw is a frame). */
const STATUS_REDRAW_MS = 250;
let statusTimer: ReturnType<typeof setTimeout> | null = null;
function renderStatusThrottled(): void {
  if (statusTimer) return;
  statusTimer = setTimeout(() => {
    statusTimer = null;
    renderStatus();
  }, STATUS_REDRAW_MS);
}
// Elapsed time and ETA tick while a run is on.
setInterval(() => {
  if (state.running) renderStatus();
}, 1000);

function renderMessages(): void {
  const items: HTMLElement[] = [];
  if (fallbackReason) items.push(h('p', { class: 'message info', text: `Computing on the page, not in a worker: ${fallbackReason}. The page may respond slowly during training.` }));
  if (state.error) items.push(h('p', { class: 'message error', attrs: { role: 'alert' }, text: state.error }));
  for (const w of state.warnings.slice(-5)) items.push(h('p', { class: 'message warning', text: `Warning: ${w}` }));
  for (const n of state.notes.slice(-3)) items.push(h('p', { class: 'message info', text: n }));
  if (restartNote) items.push(h('p', { class: 'message info', text: restartNote }));
  if (recorder.problem) items.push(h('p', { class: 'message warning', text: recorder.problem }));
  if (offer && !state.running) items.push(resumeOffer(offer));
  else if (client.stopped && !state.running) {
    items.push(h('div', { class: 'message info resume-offer' },
      h('span', { text: 'The engine is stopped. ' }),
      h('button', { id: 'restart-engine', attrs: { type: 'button' }, text: 'Continue', on: { click: restartEngine } })));
  }
  // Replaced only when they change: a button replaced between a press and its release (a redraw
  // while the user clicks Resume) would take no click. The offer is compared as an object: its
  // buttons' handlers are bound to the offer they were made for.
  const html = items.map((e) => e.outerHTML).join('');
  if (html === shownMessages.html && offer === shownMessages.offer) return;
  shownMessages = { html, offer };
  replace(els.messages, ...items);
}
let shownMessages: { html: string; offer: StoredExperiment | null } = { html: '', offer: null };

function resumeOffer(o: StoredExperiment): HTMLElement {
  const c = o.config;
  const when = new Date(o.startedAt);
  const what = `${c.dataset} · ${c.model} · ${c.strategies.join(', ')}${c.repeats > 1 ? ` · ${c.repeats} repeats` : ''}`;
  const isCurrent = o.id === recorder.id;
  const text = isCurrent
    ? `This run stopped after ${o.done} of ${o.total} evaluations. Continue it from its last completed round? `
    : `A run started ${when.toLocaleString()} (${what}) stopped after ${o.done} of ${o.total} evaluations, its completed rounds saved in this browser. `;
  const buttons = [
    h('button', { id: 'resume-run', attrs: { type: 'button' }, text: isCurrent ? 'Continue' : 'Resume', on: { click: () => void startRun(o) } }),
  ];
  if (!isCurrent) {
    buttons.push(h('button', { id: 'show-stored', attrs: { type: 'button' }, text: 'Show its results', on: { click: () => void showStored(o) } }));
  }
  buttons.push(h('button', {
    id: 'discard-stored', attrs: { type: 'button' }, text: 'Discard',
    on: { click: () => { offer = null; void recorder.store.remove(o.id).catch(() => undefined); renderMessages(); } },
  }));
  return h('div', { class: 'message info resume-offer', attrs: { role: 'region', 'aria-label': 'Resume an earlier run' } }, h('span', { text }), ...buttons);
}

/** Shows a stored experiment's completed rounds without running anything. */
async function showStored(o: StoredExperiment): Promise<void> {
  if (state.running) return;
  try {
    const loaded = await recorder.store.load(o.id);
    setStrategyOrder(o.config.strategies);
    state.reset(o.config, { runs: loaded.map((r) => ({ ...r, status: r.status === 'running' ? 'aborted' : r.status })), startedAt: new Date(o.startedAt) });
    state.dataset = o.dataset;
    state.status = o.status === 'failed' ? 'failed' : 'aborted';
    modelPanel.reset();
    if (o.oracle === 'human') labels.show(await recorder.store.labels(o.id), await recorder.store.drawn(o.id));
    else labels.clear();
    recorder.show(o.id);
    els.boundaryPanel.hidden = o.dataset?.kind !== 'points';
    selection.round = latestRound();
  } catch (err) {
    state.error = `The stored run could not be read: ${err instanceof Error ? err.message : String(err)}`;
  }
  renderAll();
}

function renderButtons(): void {
  const running = state.running;
  els.run.disabled = running || !valid;
  els.run.textContent = state.runs.length && !running ? 'Run again' : 'Run';
  els.pause.disabled = !running || state.status === 'stopping' || state.status === 'starting';
  els.pause.textContent = state.status === 'paused' || state.status === 'pausing' ? 'Resume' : 'Pause';
  els.pause.setAttribute('aria-pressed', String(state.status === 'paused' || state.status === 'pausing'));
  els.stop.disabled = !running || state.status === 'stopping';
  els.openResults.disabled = running;
  labels.renderControls();
}

function renderRoundBar(): void {
  const c = state.config;
  const any = state.runs.some((r) => r.rounds.length > 0);
  els.roundBar.hidden = !c || !any;
  if (!c) return;
  els.roundRange.max = String(c.rounds);
  els.roundRange.value = String(selection.round);
  els.roundValue.textContent = selection.round === 0 ? '0 (initial set)' : `${selection.round} of ${c.rounds}`;
  els.repeatWrap.hidden = c.repeats <= 1;
  if (els.repeatSelect.options.length !== c.repeats) {
    replace(els.repeatSelect, ...Array.from({ length: c.repeats }, (_, i) => h('option', { attrs: { value: i }, text: String(i + 1) })));
  }
  els.repeatSelect.value = String(selection.repeat);
}

function renderBackend(info: BackendInfo | null, error: string | null, choice: BackendChoiceRecord | null = null): void {
  if (!info) {
    els.backendPill.textContent = error ? `backend error: ${error}` : 'backend: starting…';
    els.backendPill.dataset.backend = '';
    return;
  }
  const extra = info.backend === 'webgl'
    ? `${info.webglVersion ? ` ${info.webglVersion}` : ''} · ${info.renderer ?? 'unknown GPU'}`
    : info.backend === 'webgpu' ? ` · ${info.renderer ?? 'unknown adapter'}`
    : info.backend === 'wasm' ? ` · SIMD ${info.wasmSimd ? 'on' : 'off'}, threads ${info.wasmThreads ? 'on' : 'off'}` : '';
  els.backendPill.textContent = choice ? `${info.backend} (auto): ${choice.reason}` : `${info.backend}${extra}`;
  els.backendPill.title = `Active tfjs backend: ${info.backend}${extra}${info.renderer ? `\n${info.backend === 'webgpu' ? 'WebGPU adapter' : 'GPU renderer'}: ${info.renderer}` : ''}${choice ? `\n${choiceDetails(choice)}` : ''}`;
  els.backendPill.dataset.backend = info.backend;
  els.backendPill.dataset.choice = choice ? (choice.cached ? 'cached' : 'measured') : '';
  els.backendPill.classList.toggle('warn', !!error);
  if (error) {
    state.error = `The selected backend could not start: ${error}. Still on ${info.backend}.`;
    renderMessages();
  }
  renderDiagnosticsPanel();
}

/** The calibration behind an automatic choice, for the pill's tooltip. */
function choiceDetails(choice: BackendChoiceRecord): string {
  const ms = (x: number) => `${Math.round(x)} ms`;
  const lines = choice.timings.map((t) =>
    t.error !== null ? `${t.backend}: could not run (${t.error})`
      : t.timedOutAfterMs !== null ? `${t.backend}: given up after ${ms(t.timedOutAfterMs)}, warm-up included (already much slower)`
      : `${t.backend}: ${ms(t.ms)}${t.complete ? '' : ' before it stopped (already slower)'} for training steps and a predict chunk, after a ${ms(t.warmupMs)} warm-up`);
  return `Chosen automatically (choose a backend in the form, or ?backend=webgl in the link, to override), ${choice.cached ? 'from the timings measured earlier on this machine' : 'just measured'}:\n${lines.join('\n')}`;
}

function renderThread(): void {
  els.threadPill.textContent = !engineReady ? 'engine starting…' : thread === 'worker' ? 'in a Web Worker' : 'on the page (fallback)';
  els.threadPill.dataset.thread = engineReady ? thread : '';
}

function renderDiagnosticsPanel(): void {
  renderDiagnostics(els.diagnostics, {
    backend: state.backend,
    thread,
    fallbackReason,
    tensors: state.tensors,
    longestTask: state.longestTask,
    runs: state.runs,
    strategies: catalog.strategies,
    running: state.running,
  });
}

function strategyLabel(name: string): string {
  return catalog.strategies.find((s) => s.name === name)?.label ?? name;
}

// ---------------------------------------------------------------------------------------------
// Controls, panels, exports

function setupPanels(): void {
  for (const btn of document.querySelectorAll<HTMLButtonElement>('.panel-toggle')) {
    btn.addEventListener('click', () => {
      const body = byId(btn.getAttribute('aria-controls') ?? '');
      const open = btn.getAttribute('aria-expanded') !== 'true';
      btn.setAttribute('aria-expanded', String(open));
      body.hidden = !open;
      if (open) scheduleRender();
    });
  }
}

function setupControls(): void {
  els.run.addEventListener('click', () => void startRun());
  els.pause.addEventListener('click', togglePause);
  els.stop.addEventListener('click', stopRun);
  els.copyLink.addEventListener('click', () => {
    const url = location.href;
    const done = (msg: string) => {
      els.copyStatus.textContent = msg;
      setTimeout(() => (els.copyStatus.textContent = ''), 4000);
    };
    if (navigator.clipboard?.writeText) navigator.clipboard.writeText(url).then(() => done('Link copied.'), () => done('Copy failed: the address bar holds the link.'));
    else done('The address bar holds the link.');
  });
  els.roundRange.addEventListener('input', () => {
    selection.round = Number(els.roundRange.value);
    const latest = latestRound();
    selection.follow = selection.round >= latest && state.running;
    els.roundFollow.checked = selection.follow;
    scheduleRender();
  });
  els.roundFollow.addEventListener('change', () => {
    selection.follow = els.roundFollow.checked;
    if (selection.follow) selection.round = latestRound();
    scheduleRender();
  });
  els.repeatSelect.addEventListener('change', () => {
    selection.repeat = Number(els.repeatSelect.value);
    selection.follow = false;
    els.roundFollow.checked = false;
    scheduleRender();
  });
  els.exportJson.addEventListener('click', () => {
    const r = state.exportable();
    if (r) download(`${fileStem()}.json`, new Blob([JSON.stringify(r, null, 1) + '\n'], { type: 'application/json' }));
  });
  els.exportCsv.addEventListener('click', () => {
    const r = state.exportable();
    if (r) download(`${fileStem()}.csv`, new Blob([resultsToCsv(r)], { type: 'text/csv' }));
  });
  els.exportSvg.addEventListener('click', () => {
    void curves.toSVG().then((svg) => svg && download(`${fileStem()}-curves.svg`, new Blob([svg], { type: 'image/svg+xml' })));
  });
  els.exportPng.addEventListener('click', () => {
    void curves.toPNG().then((url) => url && download(`${fileStem()}-curves.png`, url));
  });
  els.openResults.addEventListener('change', () => {
    const file = els.openResults.files?.[0];
    // Cleared, so choosing the same file again opens it again.
    els.openResults.value = '';
    if (file) void openResultsFile(file);
  });
  let resizeTimer: ReturnType<typeof setTimeout> | null = null;
  new ResizeObserver(() => {
    if (resizeTimer) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => scheduleRender(), 200);
  }).observe(byId('curves'));
}

function latestRound(): number {
  const runs = state.runs.filter((r) => r.repeat === selection.repeat);
  return Math.max(0, ...runs.map((r) => r.rounds[r.rounds.length - 1]?.record.round ?? 0));
}

function fileStem(): string {
  const c = state.config;
  const stamp = (state.startedAt ?? new Date()).toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return c ? `activelab-${c.dataset}-${c.model}-seed${c.seed}-${stamp}` : `activelab-${stamp}`;
}

function download(name: string, data: Blob | string): void {
  const url = typeof data === 'string' ? data : URL.createObjectURL(data);
  const a = h('a', { attrs: { href: url, download: name }, style: { display: 'none' } });
  document.body.appendChild(a);
  a.click();
  a.remove();
  if (typeof data !== 'string') setTimeout(() => URL.revokeObjectURL(url), 5000);
}

function observeLongTasks(): void {
  try {
    new PerformanceObserver((list) => {
      if (!state.running) return;
      for (const e of list.getEntries()) state.longestTask = Math.max(state.longestTask, e.duration);
    }).observe({ type: 'longtask', buffered: false });
  } catch {
    // No Long Tasks API in this browser: the diagnostic stays at 0.
  }
}

// A small console and test surface: plain data only.
declare global {
  interface Window {
    activelab?: {
      results: () => ReturnType<RunState['exportable']>;
      status: () => string;
      tensors: () => { before: number | null; after: number | null };
      crashWorker: () => void;
      /** Diagnostics: every new worker crashes as soon as it is ready (tests the bounded restarts). */
      crashEveryStart: (on: boolean) => void;
      /** Diagnostics: the delays before the automatic restarts (default 1 s, 5 s, 25 s). */
      setRestartDelays: (ms: number[]) => void;
      loseContext: () => void;
      /** Diagnostics: how long a run interrupted by a GPU loss waits for its attempt to wind down (default 20 s). */
      setWindDown: (ms: number) => void;
      /** Resolves once the completed rounds received so far are in storage (IndexedDB). */
      saved: () => Promise<void>;
    };
  }
}
window.activelab = {
  results: () => state.exportable(),
  status: () => state.status,
  tensors: () => ({ ...state.tensors }),
  crashWorker: () => client.send({ type: 'crash' }),
  crashEveryStart: (on) => {
    client.crashEveryStart = on;
  },
  setRestartDelays: (ms) => client.restarts.setDelays(ms),
  loseContext: () => client.send({ type: 'lose-context' }),
  setWindDown: (ms) => client.send({ type: 'wind-down', ms }),
  saved: () => recorder.saved(),
};

void boot();
