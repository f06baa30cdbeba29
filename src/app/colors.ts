/**
 * Strategy colours, the same as the learning-curve chart's: `STRATEGY_COLORS` by name, else the
 * chart's fallback palette by position in the run's strategy list (learningCurveSpec's rule).
 */
import { STRATEGY_COLORS, strategyColor as chartColor } from '../charts/learning-curve.ts';

let order: readonly string[] = [];

/** The run's strategies in order (the chart's colour domain). */
export function setStrategyOrder(strategies: readonly string[]): void {
  order = [...strategies];
}

export function strategyColor(name: string): string {
  const i = order.indexOf(name);
  return STRATEGY_COLORS[name] || i >= 0 ? chartColor(name, i) : '#6b7280';
}
