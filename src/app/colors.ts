/**
 * Strategy colours, the same as the learning-curve chart's: `STRATEGY_COLORS` by name, else the
 * chart's fallback palette by position in the run's strategy list (learningCurveSpec's rule).
 */
import { STRATEGY_COLORS } from '../charts/learning-curve.ts';

/** learningCurveSpec's palette for strategies without a registered colour (keep in step with it). */
const FALLBACK = ['#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173'];

let order: readonly string[] = [];

/** The run's strategies in order (the chart's colour domain). */
export function setStrategyOrder(strategies: readonly string[]): void {
  order = [...strategies];
}

export function strategyColor(name: string): string {
  const known = STRATEGY_COLORS[name];
  if (known) return known;
  const i = order.indexOf(name);
  return i >= 0 ? FALLBACK[i % FALLBACK.length]! : '#6b7280';
}
