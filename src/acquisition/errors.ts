/** Errors of the acquisition layer: each names what was wrong and where. */

/** A tensor handed to a measure or a validator is not a valid probability (or logit) tensor. */
export class InvalidProbabilitiesError extends Error {
  override readonly name = 'InvalidProbabilitiesError';
  constructor(
    message: string,
    /** The first bad row (pool index), or null when the problem is the shape. */
    readonly row: number | null = null,
    /** Machine-readable reason. */
    readonly reason: 'shape' | 'non-finite' | 'out-of-range' | 'row-sum' = 'shape',
  ) {
    super(message);
  }
}

/** A selection request that cannot be met as asked (k, exclusion list, scores' shape). */
export class SelectionError extends Error {
  override readonly name = 'SelectionError';
}
