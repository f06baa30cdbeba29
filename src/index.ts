/**
 * ActiveLab's public API.
 *
 * Measures take a probability (or logit) tensor and return a new Tensor1D [N] that the caller
 * owns. Strategies turn measures into informativeness (higher = ask first); `selectTopK` and
 * `acquire` turn scores into pool indices.
 */
export * from './acquisition/index.ts';
export { Rng } from './rng.ts';
export { useBackend, backendInfo, BackendUnavailableError, BACKEND_NAMES, type BackendName, type BackendInfo } from './backend/index.ts';
