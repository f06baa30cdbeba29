/**
 * What the page offers and checks against: the catalogs (plain data, no tfjs) and the engine's
 * defaults, read directly on the page, so the form is built and validated before the compute
 * host has started (or when it cannot start).
 */
import { BUILTIN_DATASETS, type DatasetCatalog, type DatasetDescription } from '../../datasets/catalog.ts';
import { MODEL_CATALOG, type ModelDescription } from '../../models/catalog.ts';
import { STRATEGY_CATALOG, STRATEGY_NAMES, type StrategyDescription } from '../acquisition/catalog.ts';
import { BACKEND_CATALOG, BACKEND_CHOICES, type BackendChoice, type BackendDescription } from '../backend/catalog.ts';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../engine/config.ts';

export type DatasetMeta = DatasetDescription;
export type ModelMeta = ModelDescription;
export type StrategyMeta = StrategyDescription;

export interface Catalog {
  /** The datasets the form offers and `resolveConfig` accepts: the built-in ones, and any described at run time. */
  datasets: DatasetCatalog;
  models: Readonly<Record<string, ModelMeta>>;
  /** In the catalog's order. */
  strategies: StrategyMeta[];
  /** 'auto' first, then the backends by name. */
  backends: readonly BackendChoice[];
  backendInfo: Readonly<Record<string, BackendDescription>>;
  /** The engine's defaults (`DEFAULT_CONFIG`). */
  defaults: ExperimentConfig;
}

export function appCatalog(datasets: DatasetCatalog = BUILTIN_DATASETS): Catalog {
  return {
    datasets,
    models: MODEL_CATALOG,
    strategies: STRATEGY_NAMES.map((name) => STRATEGY_CATALOG[name]),
    backends: BACKEND_CHOICES,
    backendInfo: {
      auto: { label: 'auto (fastest here)', description: 'Measures the chosen model briefly on each backend (once per model on this machine) and runs on the fastest.' },
      ...BACKEND_CATALOG,
    },
    defaults: { ...DEFAULT_CONFIG, strategies: [...DEFAULT_CONFIG.strategies] },
  };
}
