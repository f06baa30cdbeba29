/**
 * The GPU-loss supervisor with a fake experiment and a fake context (a WebGL context or a WebGPU
 * device): no browser, no tfjs. A loss ends the attempt, keeps its completed rounds, finds a
 * backend and resumes.
 */
import { describe, expect, it } from 'vitest';
import type { GpuBackendName } from '../../src/backend/catalog.ts';
import { supervise, type SuperviseOptions, type SupervisorParts } from '../../src/app/host/supervisor.ts';
import { resolveConfig, type ExperimentConfig, type ExperimentEvent, type RoundRecord, type RunOptions, type RunRecord } from '../../src/engine/index.ts';

const config = resolveConfig({ dataset: 'classification', model: 'logreg', strategies: ['margin'], rounds: 3, backend: 'webgl' });

const record = (round: number): RoundRecord => ({
  round, labeled: 10 + round, accuracy: 0.5, loss: 1, ece: 0.1, calibration: null, classCounts: [5, 5],
  selected: [round], selectedScores: null, ms: { train: 0, predict: 0, score: 0, select: 0, evaluate: 0 },
});
const roundEvent = (round: number): ExperimentEvent => ({
  type: 'round', strategy: 'margin', repeat: 0, record: record(round), scores: null, confusion: [], grid: null, progress: { done: round + 1, total: 4, elapsedMs: 0 },
});

/** What one fake attempt does, given its options and the fake context. */
type Script = (options: RunOptions, ctx: FakeContext) => Promise<void>;

class FakeContext {
  private listeners: (() => void)[] = [];
  isLost = false;
  constructor(readonly kind: GpuBackendName) {}
  active = () => this.kind;
  /** Loses the context: `lost()` turns true now, the event arrives as a later task (as in a browser). */
  lose(opts: { event?: boolean } = {}) {
    this.isLost = true;
    if (opts.event !== false) setTimeout(() => this.listeners.splice(0).forEach((f) => f()));
  }
  watch = (onLost: () => void) => {
    this.listeners.push(onLost);
    return () => (this.listeners = this.listeners.filter((f) => f !== onLost));
  };
  lost = () => this.isLost;
  get watchers() {
    return this.listeners.length;
  }
}

/** Resolves when the attempt is aborted (as runExperiment does between steps). */
const untilAborted = (signal: AbortSignal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve())));

function harness(scripts: Script[], extra: Partial<SupervisorParts> = {}, kind: GpuBackendName = 'webgl') {
  const ctx = new FakeContext(kind);
  const calls: { config: ExperimentConfig; resume: RunOptions['resume'] }[] = [];
  const log: string[] = [];
  const events: ExperimentEvent[] = [];
  const parts: SupervisorParts = {
    run: async (cfg, options) => {
      const script = scripts[calls.length];
      calls.push({ config: cfg, resume: options.resume && structuredClone(options.resume) });
      if (!script) throw new Error(`no script for attempt ${calls.length}`);
      ctx.isLost = false; // a fresh backend has a live context
      await script(options, ctx);
    },
    context: { active: ctx.active, watch: ctx.watch, lost: ctx.lost },
    freshGpu: async (b) => void log.push(`fresh ${b}`),
    switchToWasm: async () => void log.push('wasm'),
    reportBackend: () => void log.push('report backend'),
    notice: (m) => void log.push(`notice: ${m}`),
    windDownMs: 20,
    ...extra,
  };
  const signalCtrl = new AbortController();
  const options: SuperviseOptions = { signal: signalCtrl.signal, onEvent: (e) => void events.push(e), resume: null };
  return { ctx, calls, log, events, parts, options, stop: () => signalCtrl.abort() };
}

/** An attempt that completes rounds `from`..`to` and then loses the context. */
const roundsThenLoss = (from: number, to: number): Script => async (o, ctx) => {
  for (let r = from; r <= to; r++) await o.onEvent!(roundEvent(r));
  ctx.lose();
  await untilAborted(o.signal!);
  // The loop notices the abort at its next step; what it reports now is dropped.
  await o.onEvent!(roundEvent(to + 1));
  throw Object.assign(new Error('aborted'), { name: 'AbortError' });
};
const roundsToEnd = (from: number): Script => async (o) => {
  for (let r = from; r <= 3; r++) await o.onEvent!(roundEvent(r));
  const run: RunRecord = { strategy: 'margin', repeat: 0, status: 'complete', rounds: [0, 1, 2, 3].map(record) };
  await o.onEvent!({ type: 'run', run });
};

describe('supervise', () => {
  it('runs one attempt when the context holds, passing the events through', async () => {
    const h = harness([roundsToEnd(0)]);
    await supervise(config, h.parts, h.options);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.resume).toBeUndefined();
    expect(h.events.map((e) => e.type)).toEqual(['round', 'round', 'round', 'round', 'run']);
    expect(h.log).toEqual([]);
    expect(h.ctx.watchers).toBe(0); // stopped watching
  });

  it('after a loss, keeps the completed rounds and resumes from them on a fresh WebGL context', async () => {
    const h = harness([roundsThenLoss(0, 1), roundsToEnd(2)]);
    await supervise(config, h.parts, h.options);
    expect(h.calls).toHaveLength(2);
    const resume = h.calls[1]!.resume!;
    expect(resume.config.backend).toBe('webgl');
    expect(resume.runs).toHaveLength(1);
    expect(resume.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1]);
    // The round the first attempt reported after the loss was dropped, not passed on.
    expect(h.events.filter((e) => e.type === 'round').map((e) => (e as { record: RoundRecord }).record.round)).toEqual([0, 1, 2, 3]);
    expect(h.log[0]).toBe('fresh webgl');
    expect(h.log[1]).toBe('report backend');
    expect(h.log[2]).toMatch(/^notice: The GPU's WebGL context was lost .* The 2 completed rounds are kept; .* on a fresh WebGL context\.$/);
    expect(h.ctx.watchers).toBe(0);
  });

  it('notices a loss by asking the context before keeping an event (the lost event comes later)', async () => {
    // The context is lost but its event never arrives: the synchronous check alone must end the attempt.
    const quietLoss: Script = async (o, ctx) => {
      await o.onEvent!(roundEvent(0));
      ctx.lose({ event: false });
      await o.onEvent!(roundEvent(1)); // finished on the lost context: dropped, and the attempt aborted
      expect(o.signal!.aborted).toBe(true);
    };
    const h = harness([quietLoss, roundsToEnd(1)]);
    await supervise(config, h.parts, h.options);
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]!.resume!.runs[0]!.rounds.map((r) => r.round)).toEqual([0]);
    expect(h.events.filter((e) => e.type === 'round')).toHaveLength(4); // 0 once, then 1..3 from the second attempt
  });

  it('passes on the final models of a live attempt and drops one finished on a lost context', async () => {
    const model = { modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(0), format: 'layers-model', generatedBy: 'test', convertedBy: null };
    const final = (repeat: number) => ({ strategy: 'margin', repeat, round: 3, labeled: 13, accuracy: 0.5 });
    const lossBeforeModel: Script = async (o, ctx) => {
      await o.onFinalModel!(final(0), model);
      ctx.lose({ event: false });
      await o.onFinalModel!(final(1), model); // exported from the lost context: dropped, and the attempt aborted
      expect(o.signal!.aborted).toBe(true);
    };
    const h = harness([lossBeforeModel, async (o) => void (await o.onFinalModel!(final(2), model))]);
    const got: number[] = [];
    await supervise(config, h.parts, { ...h.options, onFinalModel: (run) => void got.push(run.repeat) });
    expect(h.calls).toHaveLength(2);
    expect(got).toEqual([0, 2]);
  });

  it('continues on wasm when no fresh WebGL context starts, saying why', async () => {
    const h = harness([roundsThenLoss(0, 0), roundsToEnd(1)], { freshGpu: async () => { throw new Error('no context for you'); } });
    await supervise(config, h.parts, h.options);
    expect(h.calls[1]!.config.backend).toBe('wasm');
    expect(h.calls[1]!.resume!.config.backend).toBe('wasm');
    expect(h.log[0]).toBe('wasm');
    expect(h.log[1]).toMatch(/The 1 completed round is kept; .*on the wasm backend \(CPU\), because no context for you\./);
  });

  it('gives up on WebGL after more than maxGpuRestarts losses', async () => {
    const h = harness([roundsThenLoss(0, 0), roundsThenLoss(1, 1), roundsThenLoss(2, 2), roundsToEnd(3)], { maxGpuRestarts: 2 });
    await supervise(config, h.parts, h.options);
    expect(h.calls.map((c) => c.config.backend)).toEqual(['webgl', 'webgl', 'webgl', 'wasm']);
    expect(h.log.filter((l) => l === 'fresh webgl')).toHaveLength(2);
    expect(h.log.at(-1)).toMatch(/because the WebGL context was lost 3 times in this run/);
    expect(h.calls[3]!.resume!.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
  });

  it('a lost WebGPU device: keeps the rounds, continues on a fresh device, and on wasm after repeated losses', async () => {
    const webgpuConfig = { ...config, backend: 'webgpu' as const };
    const h = harness([roundsThenLoss(0, 1), roundsThenLoss(2, 2), roundsThenLoss(3, 3), roundsToEnd(4)], { maxGpuRestarts: 2 }, 'webgpu');
    await supervise(webgpuConfig, h.parts, h.options);
    expect(h.calls.map((c) => c.config.backend)).toEqual(['webgpu', 'webgpu', 'webgpu', 'wasm']);
    expect(h.log.filter((l) => l.startsWith('fresh '))).toEqual(['fresh webgpu', 'fresh webgpu']);
    const notices = h.log.filter((l) => l.startsWith('notice: '));
    expect(notices[0]).toMatch(/^notice: The GPU's WebGPU device was lost .* The 2 completed rounds are kept; .* on a fresh WebGPU device\.$/);
    expect(notices.at(-1)).toMatch(/on the wasm backend \(CPU\), because the WebGPU device was lost 3 times in this run\. Results may differ from WebGPU/);
    expect(h.calls[3]!.resume!.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1, 2, 3]);
    expect(h.ctx.watchers).toBe(0);
  });

  it('a loss known only after the attempt ended (its reads rejected first, as a lost WebGPU device does) still counts as a loss', async () => {
    const rejectedFirst: Script = async (o, ctx) => {
      await o.onEvent!(roundEvent(0));
      setTimeout(() => ctx.lose({ event: false })); // the loss is known a task after the failure
      throw Object.assign(new Error('mapAsync aborted'), { name: 'AbortError' });
    };
    const h = harness([rejectedFirst, roundsToEnd(1)], {}, 'webgpu');
    await supervise({ ...config, backend: 'webgpu' }, h.parts, h.options);
    expect(h.calls).toHaveLength(2);
    expect(h.log[0]).toBe('fresh webgpu');
    expect(h.calls[1]!.resume!.runs[0]!.rounds.map((r) => r.round)).toEqual([0]);
  });

  it('starts the next attempt after the wind-down time when a lost attempt never settles', async () => {
    const hang: Script = async (o, ctx) => {
      await o.onEvent!(roundEvent(0));
      ctx.lose();
      await new Promise<never>(() => undefined); // a GPU read that never settles
    };
    const h = harness([hang, roundsToEnd(1)], { windDownMs: 30 });
    const t0 = performance.now();
    await supervise(config, h.parts, h.options);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(h.calls).toHaveLength(2);
  });

  it('a stop during a loss starts no further attempt', async () => {
    const h = harness([
      async (o, ctx) => {
        await o.onEvent!(roundEvent(0));
        h.stop();
        ctx.lose();
        await untilAborted(o.signal!);
      },
    ]);
    await supervise(config, h.parts, h.options);
    expect(h.calls).toHaveLength(1);
    expect(h.log).toEqual([]);
  });

  it('passes a failure that is not a context loss on, as itself', async () => {
    const boom = new Error('the model diverged');
    const h = harness([async () => { throw boom; }]);
    await expect(supervise(config, h.parts, h.options)).rejects.toBe(boom);
    expect(h.calls).toHaveLength(1);
  });

  it('keeps the runs it resumed from and tells a paused attempt to stop waiting once lost', async () => {
    const kept: RunRecord = { strategy: 'margin', repeat: 0, status: 'aborted', rounds: [record(0)] };
    const interruptedSeen: boolean[] = [];
    const h = harness([
      async (o, ctx) => {
        await o.onEvent!(roundEvent(1));
        ctx.lose();
        await untilAborted(o.signal!);
        await o.waitIfPaused!();
        throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      },
      roundsToEnd(2),
    ]);
    h.options.resume = { config, runs: [kept] };
    h.options.waitIfPaused = async (interrupted) => void interruptedSeen.push(interrupted());
    await supervise(config, h.parts, h.options);
    expect(h.calls[0]!.resume).toEqual(h.options.resume);
    expect(h.calls[1]!.resume!.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(kept.rounds).toHaveLength(1); // the caller's record is copied, not grown
    expect(interruptedSeen).toEqual([true]);
  });
});
