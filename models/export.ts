/**
 * Model export: a trained model as TensorFlow.js artifacts (`model.json` + one weights file) that
 * any tfjs app loads with `tf.loadLayersModel`, and a checked loader for them.
 *
 * - `exportModel(model)` saves through `tf.io.withSaveHandler` (works in a Web Worker, where
 *   `downloads://` throws, and in Node) into plain data: the topology, the weight specs and one
 *   ArrayBuffer. Nothing in it is a tensor, so it can be posted to the page or written to disk.
 * - `exportFiles(exp, weightsFileName)` renders the two files. The manifest names the weights file
 *   (`./<weightsFileName>`): `tf.io.browserFiles` matches the file it is given by that name.
 * - `loadExportedModel(files, expected)` checks both files and says which one is wrong (not JSON,
 *   no topology or manifest, a weights file of the wrong size, weights that do not fit the
 *   topology, a model for another input shape or class count) before handing back the model.
 *
 * The optimizer's state is not exported (`includeOptimizer` off): the model predicts; to train it
 * further, compile it again.
 *
 * Layering: imports tfjs and `models/index.ts` only.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeModel } from './index.ts';

/** A trained model as plain data: what `tf.io.ModelArtifacts` holds, the weights in one buffer. */
export interface ModelExport {
  /** The layers model's topology (`model.toJSON()` as an object). */
  modelTopology: object;
  /** One entry per weight, in the order of `weightData`. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Every weight's values, concatenated (little-endian, as tfjs writes them). */
  weightData: ArrayBuffer;
  format: string;
  generatedBy: string;
  convertedBy: string | null;
  /** What the model was trained on (e.g. `{ activelab: { dataset, classNames, ... } }`), written to model.json. */
  userDefinedMetadata?: Record<string, object>;
}

/** The two files of an export: model.json's text and the weights file's bytes. */
export interface ExportedFiles {
  modelJson: string;
  weights: ArrayBuffer;
}

/** The default weights file name, as in a `--save-models` run folder. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * Saves `model` (its weights and topology, not its optimizer) as plain data. Reads the weights
 * back once (asynchronously); creates no tensors.
 *
 * @example
 *   const exp = await exportModel(model, { activelab: { dataset: 'mnist', classNames } });
 *   const { modelJson, weights } = exportFiles(exp); // write them as model.json + weights.bin
 */
export async function exportModel(model: tf.LayersModel, metadata?: Record<string, object>): Promise<ModelExport> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  const a = saved as tf.io.ModelArtifacts | null;
  if (!a?.modelTopology || !a.weightSpecs || a.weightData === undefined) throw new Error(`exportModel: tfjs saved no topology or weights for model '${model.name}'`);
  return {
    modelTopology: a.modelTopology as object,
    weightSpecs: a.weightSpecs,
    weightData: tf.io.CompositeArrayBuffer.join(a.weightData),
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: a.convertedBy ?? null,
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  };
}

/**
 * The export as files: model.json (its manifest pointing at `./<weightsFileName>`) and the weights.
 * The weights buffer is a copy, so it can be transferred to another thread.
 */
export function exportFiles(exp: ModelExport, weightsFileName: string = WEIGHTS_FILE): ExportedFiles {
  if (!/^[^/\\]+$/.test(weightsFileName)) throw new RangeError(`exportFiles: the weights file name must be a plain file name, got '${weightsFileName}'`);
  const json: tf.io.ModelJSON = {
    modelTopology: exp.modelTopology,
    format: exp.format,
    generatedBy: exp.generatedBy,
    convertedBy: exp.convertedBy,
    weightsManifest: [{ paths: [`./${weightsFileName}`], weights: exp.weightSpecs }],
    ...(exp.userDefinedMetadata ? { userDefinedMetadata: exp.userDefinedMetadata } : {}),
  };
  return { modelJson: JSON.stringify(json), weights: exp.weightData.slice(0) };
}

/** Which file is wrong: model.json, the weights file, or the two together. */
export type ModelFilePart = 'model.json' | 'weights.bin' | 'both';

/** A model file that cannot be loaded, or a model that does not fit what was expected; `file` says which. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    readonly file: ModelFilePart,
    message: string,
  ) {
    super(message);
  }
}

/** A file's contents: text or bytes, or a Blob/File (read here). */
export type FileData = string | ArrayBuffer | ArrayBufferView | Blob;

export interface ModelFiles {
  /** model.json: its text, its bytes, a File, or the parsed object. */
  modelJson: FileData | object;
  /** The weights file named in model.json's manifest (weights.bin): its bytes or a File. */
  weights: ArrayBuffer | ArrayBufferView | Blob;
}

/** What the loaded model must take and give; a mismatch is a `ModelFileError`. */
export interface ExpectedModel {
  /** Per-example input shape, no batch axis (e.g. [28, 28, 1]). */
  inputShape?: readonly number[];
  /** Width of the softmax output. */
  numClasses?: number;
}

const isBlob = (x: unknown): x is Blob => typeof Blob !== 'undefined' && x instanceof Blob;

async function bytesOf(data: ArrayBuffer | ArrayBufferView | Blob): Promise<Uint8Array> {
  if (isBlob(data)) return new Uint8Array(await data.arrayBuffer());
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new ModelFileError('weights.bin', `the weights must be bytes (an ArrayBuffer, a typed array or a File), got ${typeof data}`);
}

async function parseModelJson(data: FileData | object): Promise<Record<string, unknown>> {
  let parsed: unknown = data;
  if (typeof data === 'string' || isBlob(data) || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    const text = typeof data === 'string' ? data : isBlob(data) ? await data.text() : new TextDecoder().decode(await bytesOf(data));
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const why = /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text.slice(0, 256)) ? 'it holds binary data' : err instanceof Error ? err.message : String(err);
      throw new ModelFileError('model.json', `model.json is not JSON (${why}); give the model.json of an export, not its weights file`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelFileError('model.json', `model.json holds ${Array.isArray(parsed) ? 'a list' : parsed === null ? 'null' : `a ${typeof parsed}`}, not a model's JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Bytes per value of each weight dtype (and of each quantized storage dtype). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** The weight specs of a manifest, each checked, and the bytes they take. */
function manifestSpecs(manifest: unknown): { specs: tf.io.WeightsManifestEntry[]; bytes: number } {
  if (!Array.isArray(manifest)) {
    throw new ModelFileError('model.json', `model.json has no weightsManifest (a list of {paths, weights}): ${manifest === undefined ? 'the field is missing' : `it is ${JSON.stringify(manifest)?.slice(0, 60)}`}`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  let bytes = 0;
  manifest.forEach((group: unknown, g) => {
    const weights = (group as { weights?: unknown } | null)?.weights;
    if (!Array.isArray(weights)) throw new ModelFileError('model.json', `model.json's weightsManifest[${g}] has no weights list`);
    weights.forEach((w: unknown, i) => {
      const s = w as Partial<tf.io.WeightsManifestEntry> | null;
      const where = `model.json's weightsManifest[${g}].weights[${i}]${typeof s?.name === 'string' ? ` ('${s.name}')` : ''}`;
      if (typeof s?.name !== 'string') throw new ModelFileError('model.json', `${where} has no name`);
      if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ModelFileError('model.json', `${where} has no valid shape (a list of whole numbers): ${JSON.stringify(s.shape)}`);
      const stored = s.quantization?.dtype ?? s.dtype;
      const size = typeof stored === 'string' ? DTYPE_BYTES[stored] : undefined;
      if (size === undefined) throw new ModelFileError('model.json', `${where} has dtype ${JSON.stringify(stored)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
      bytes += size * s.shape.reduce((a, b) => a * b, 1);
      specs.push(s as tf.io.WeightsManifestEntry);
    });
  });
  return { specs, bytes };
}

const shapeText = (s: readonly unknown[]) => `[${s.join(', ')}]`;

/**
 * Loads an export (model.json + its weights file) as a `tf.LayersModel`, after checking both. The
 * caller owns the model: release it with `disposeModel` (models/index.ts).
 * @throws ModelFileError saying which file is wrong and how; nothing is left allocated.
 *
 * @example
 *   // In a page, from <input type="file" multiple>:
 *   const model = await loadExportedModel({ modelJson: jsonFile, weights: binFile }, { inputShape: [28, 28, 1], numClasses: 10 });
 *   const probs = model.predict(x) as tf.Tensor2D;
 */
export async function loadExportedModel(files: ModelFiles, expected: ExpectedModel = {}): Promise<tf.LayersModel> {
  const json = await parseModelJson(files.modelJson);
  const topology = json['modelTopology'];
  if (typeof topology !== 'object' || topology === null) {
    throw new ModelFileError('model.json', `model.json has no modelTopology: it is not a TensorFlow.js layers model${typeof json['format'] === 'string' ? ` (format '${json['format']}')` : ''}`);
  }
  const { specs, bytes } = manifestSpecs(json['weightsManifest']);
  const weights = await bytesOf(files.weights);
  if (weights.byteLength !== bytes) {
    throw new ModelFileError('weights.bin', `the weights file has ${weights.byteLength} bytes, but model.json's weightsManifest describes ${specs.length} weights of ${bytes} bytes in all: the weights file is damaged or belongs to another model.json`);
  }
  // What tf.loadLayersModel(tf.io.fromMemory(...)) does, but freeing the model and the decoded
  // weights when the weights do not fit (tfjs's own loader leaks both then).
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] });
  } catch (err) {
    throw new ModelFileError('model.json', `model.json's modelTopology does not build a model: ${err instanceof Error ? err.message : String(err)}`);
  }
  let named: tf.NamedTensorMap = {};
  try {
    named = tf.io.decodeWeights(weights.slice().buffer, specs);
    model.loadWeights(named, true);
  } catch (err) {
    disposeModel(model);
    throw new ModelFileError('both', `model.json and the weights file do not make a model: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    tf.dispose(Object.values(named));
  }
  try {
    checkFits(model, expected);
  } catch (err) {
    disposeModel(model);
    throw err;
  }
  return model;
}

function checkFits(model: tf.LayersModel, expected: ExpectedModel): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelFileError('model.json', `model.json's model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; expected one of each`);
  }
  const input = model.inputs[0]!.shape.slice(1);
  if (expected.inputShape && (input.length !== expected.inputShape.length || input.some((d, i) => d !== expected.inputShape![i]))) {
    throw new ModelFileError('model.json', `model.json's model takes inputs of shape ${shapeText(input)}, expected ${shapeText(expected.inputShape)}: it was trained on another dataset`);
  }
  const classes = model.outputs[0]!.shape.at(-1);
  if (expected.numClasses !== undefined && classes !== expected.numClasses) {
    throw new ModelFileError('model.json', `model.json's model outputs ${classes} classes, expected ${expected.numClasses}: it was trained on another dataset`);
  }
}
