/** The acquisition layer: measures (probabilities -> per-row value), strategies, selection. */
export * from './measures/index.ts';
export { InvalidProbabilitiesError, SelectionError } from './errors.ts';
export { validateProbabilities, type ValidateOptions } from './validate.ts';
export { selectTopK, topKIndices, type SelectOptions } from './select.ts';
export {
  STRATEGIES,
  STRATEGY_NAMES,
  UnknownStrategyError,
  acquire,
  getStrategy,
  isStrategyName,
  type Acquisition,
  type AcquisitionInputs,
  type Need,
  type ScoringStrategy,
  type SetStrategy,
  type Strategy,
  type StrategyName,
} from './strategies.ts';
