/** The acquisition layer: measures (probabilities -> per-row value), strategies, selection. */
export * from './measures/index.ts';
export { InvalidProbabilitiesError, SelectionError } from './errors.ts';
export { validateProbabilities, type ValidateOptions } from './validate.ts';
export { selectTopK, topKIndices, type SelectOptions } from './select.ts';
export {
  MARGIN_DIVERSE_BETA,
  STRATEGY_CATALOG,
  type StrategyDescription,
  type StrategyKind,
} from './catalog.ts';
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
export {
  kmeans,
  kmeansPlusPlus,
  kmeansDiversityStrategy,
  roundRobinByCluster,
  type KMeansDiversityOptions,
  type KMeansOptions,
  type KMeansPlusPlusOptions,
  type KMeansResult,
} from './diversity/kmeans.ts';
export { coresetStrategy, greedyKCenter, type CoresetOptions, type KCenterOptions, type KCenterResult } from './diversity/coreset.ts';
export { badgeSelect, badgeStrategy, type BadgeOptions, type BadgeStrategyOptions } from './diversity/badge.ts';
export { marginDiverseSelect, marginDiverseStrategy, type MarginDiverseOptions } from './diversity/margin-diverse.ts';
export { DEFAULT_CLUSTERS } from './diversity/common.ts';
export { CHUNK_ELEMENTS, DEFAULT_COL_CHUNK } from './diversity/distance.ts';
export {
  CalibrationError,
  applyTemperature,
  applyTemperatureToSamples,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  type CalibrationReport,
  type EceOptions,
  type FitTemperatureOptions,
  type Labels,
  type NllOptions,
  type ReliabilityBin,
  type TemperatureFit,
} from './calibration.ts';
