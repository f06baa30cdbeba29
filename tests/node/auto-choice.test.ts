/**
 * The automatic backend choice (src/backend/auto-choice.ts): timings in, the pick and its reason
 * out. Software renderers are measured like any other backend; their name only explains.
 */
import { describe, expect, it } from 'vitest';
import { calibrationKey, formatRatio, nodeBackend, pickBackend, softwareRenderer, type BackendTiming } from '../../src/backend/auto-choice.ts';

const SWIFTSHADER = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const timing = (t: Partial<BackendTiming> & Pick<BackendTiming, 'backend' | 'ms'>): BackendTiming => ({
  complete: true, warmupMs: 10, stepMs: t.ms / 4, predictMs: t.ms / 4, renderer: null, timedOutAfterMs: null, error: null, ...t,
});

describe('softwareRenderer', () => {
  it.each([
    [SWIFTSHADER, 'SwiftShader'],
    ['llvmpipe (LLVM 15.0.6, 256 bits)', 'llvmpipe'],
    ['Gallium 0.4 on softpipe', 'softpipe'],
    ['ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)', 'Microsoft Basic Render Driver'],
    ['ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)', null],
    [null, null],
  ])('%s -> %s', (renderer, name) => expect(softwareRenderer(renderer)).toBe(name));
});

describe('pickBackend', () => {
  it('picks wasm over a CPU-emulated WebGL stopped early, with a lower bound and the renderer named', () => {
    expect(pickBackend([timing({ backend: 'wasm', ms: 100 }), timing({ backend: 'webgl', ms: 2400, complete: false, predictMs: null, renderer: SWIFTSHADER })])).toEqual({
      picked: 'wasm', reason: 'at least 24x faster than WebGL here, which is CPU-emulated (SwiftShader)',
    });
  });

  it('a backend given up on at its deadline is compared by wall time, warm-up included, as a lower bound', () => {
    const wasm = timing({ backend: 'wasm', ms: 600, warmupMs: 600 });
    const webgl = timing({ backend: 'webgl', ms: 0, complete: false, warmupMs: 5000, stepMs: null, predictMs: null, timedOutAfterMs: 5000, renderer: SWIFTSHADER });
    expect(pickBackend([wasm, webgl])).toEqual({ picked: 'wasm', reason: 'at least 4.1x faster than WebGL here, which is CPU-emulated (SwiftShader)' });
  });

  it('a software renderer that is measured faster wins: measured, not excluded by name', () => {
    expect(pickBackend([timing({ backend: 'wasm', ms: 300 }), timing({ backend: 'webgl', ms: 120, renderer: 'llvmpipe (LLVM 15)' })])).toEqual({
      picked: 'webgl', reason: '2.5x faster than wasm here',
    });
  });

  it('a real GPU faster than wasm: no renderer to name', () => {
    expect(pickBackend([timing({ backend: 'wasm', ms: 900 }), timing({ backend: 'webgl', ms: 60, renderer: 'ANGLE (NVIDIA GeForce RTX 3060)' })]).reason).toBe('15x faster than wasm here');
  });

  it('a near tie goes to the first measured, and says so', () => {
    expect(pickBackend([timing({ backend: 'wasm', ms: 100 }), timing({ backend: 'webgl', ms: 104 })])).toEqual({
      picked: 'wasm', reason: 'about as fast as WebGL here (1.0x); the first measured wins a tie',
    });
    expect(pickBackend([timing({ backend: 'wasm', ms: 100 }), timing({ backend: 'webgl', ms: 100 })]).picked).toBe('wasm');
  });

  it('names a backend that could not run, and picks among the others', () => {
    expect(pickBackend([timing({ backend: 'wasm', ms: 100 }), timing({ backend: 'webgl', ms: 0, complete: false, error: 'no WebGL context' })])).toEqual({
      picked: 'wasm', reason: 'the only backend measured here; WebGL could not run (no WebGL context)',
    });
  });

  it('the closest competitor is the one named', () => {
    const r = pickBackend([timing({ backend: 'wasm', ms: 100 }), timing({ backend: 'webgl', ms: 5000, complete: false }), timing({ backend: 'cpu', ms: 300 })]);
    expect(r).toEqual({ picked: 'wasm', reason: '3.0x faster than cpu here' });
  });

  it('throws when nothing was measured completely', () => {
    expect(() => pickBackend([timing({ backend: 'webgl', ms: 0, complete: false, error: 'lost' })])).toThrow('no backend was measured completely (webgl: lost)');
    expect(() => pickBackend([])).toThrow('none tried');
  });
});

describe('formatRatio and calibrationKey', () => {
  it('rounds down to one decimal below 10, whole numbers above', () => {
    expect([1.04, 2.56, 9.99, 10.4, 23.6].map(formatRatio)).toEqual(['1.0x', '2.5x', '9.9x', '10x', '24x']);
  });

  it('a key changes with the model, the renderer, the sizes and the tfjs version', () => {
    const base = { model: 'cnn', inputShape: [28, 28, 1], numClasses: 10, batchSize: 32, chunkSize: 256, renderer: SWIFTSHADER, adapter: null, tfjsVersion: '4.22.0', threads: '2:false' };
    const k = calibrationKey(base);
    expect(calibrationKey({ ...base })).toBe(k);
    for (const change of [{ model: 'mlp' }, { renderer: 'llvmpipe' }, { adapter: 'google swiftshader; fallback adapter' }, { batchSize: 64 }, { chunkSize: 128 }, { tfjsVersion: '4.23.0' }, { threads: '8:true' }, { inputShape: [784] }]) {
      expect(calibrationKey({ ...base, ...change })).not.toBe(k);
    }
  });
});

describe('nodeBackend', () => {
  it("runs 'auto' as wasm in Node and records the choice; a named backend runs as given, with no choice", () => {
    expect(nodeBackend('auto')).toEqual({
      backend: 'wasm',
      choice: { requested: 'auto', picked: 'wasm', reason: "in Node 'auto' is wasm (no WebGL here; cpu is the slow reference)", timings: [], cached: false },
    });
    expect(nodeBackend('cpu')).toEqual({ backend: 'cpu', choice: null });
    expect(nodeBackend('wasm')).toEqual({ backend: 'wasm', choice: null });
  });
});
