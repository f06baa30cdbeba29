/** The loop layer: configuration, learners, the active-learning loop, results and their summaries. */
export { ConfigError, DEFAULT_CONFIG, resolveConfig, type ExperimentConfig, type ResolveOptions } from './config.ts';
export type { ExperimentEvent, Phase, Progress } from './events.ts';
export { tfLearner, type FitContext, type Learner, type LearnerContext, type LearnerFactory, type TestEvaluation, type TfLearnerOptions } from './learner.ts';
export { ExperimentError, initialSet, ResumeError, runExperiment, stream, type FinalModelRun, type RunOptions } from './loop.ts';
export { askOracle, MAX_ADDED_PER_ROUND, noisyOracle, ORACLE_KINDS, OracleError, simulatedOracle, SKIP, type AddedExample, type Oracle, type OracleAnswer, type OracleKind, type OracleQuery } from './oracle.ts';
export { decodePixels, encodePixels, type AddedRecord } from './added.ts';
export type { DatasetRows, PoolPositions } from './rows.ts';
export {
  areaUnderLearningCurve, labelsToReach, learningCurves, resultsToCsv, stopSummary, summarize,
  type CurvePoint, type ExperimentResults, type LabelsToTarget, type RoundRecord, type RoundTimes, type RunRecord, type StopSummary, type StrategySummary,
} from './results.ts';
export {
  MAX_RESULTS_FILE_BYTES, parseResultsFile, readResultsFile, ResultsFileError, validateResults, type ResultsFileOptions,
} from './results-file.ts';
export { cohenKappa, STOP_CRITERIA, STOP_WHEN, STOPPING, stoppingAdvice, stopRound, type StopAdvice, type StopCriterion, type StoppingRecord, type StopRecord, type StopWhen } from './stopping.ts';
