/** Train rows and candidate positions are kept apart by type; `rowsAt` maps one to the other. */
import { describe, expect, it } from 'vitest';
import type { Learner } from '../../src/engine/index.ts';
import { asDatasetRows, asPoolPositions, rowsAt, type DatasetRows, type PoolPositions } from '../../src/engine/rows.ts';

describe('DatasetRows and PoolPositions', () => {
  it('rowsAt picks the rows at the positions, in the positions\' order', () => {
    const candidates = asDatasetRows(Int32Array.from([4, 9, 15, 23]));
    expect(Array.from(rowsAt(candidates, asPoolPositions(Int32Array.from([3, 0, 2]))))).toEqual([23, 4, 15]);
    expect(rowsAt(candidates, asPoolPositions(new Int32Array(0)))).toHaveLength(0);
  });

  it('cannot be mixed up without a compile error (checked by tsc, which covers tests/)', () => {
    const rows = asDatasetRows(Int32Array.from([4, 9]));
    const positions = asPoolPositions(Int32Array.from([1, 0]));
    const fit = (_labeled: DatasetRows) => undefined;
    const pick = (_p: PoolPositions) => undefined;
    fit(rows);
    pick(positions);
    // @ts-expect-error positions are not train rows
    fit(positions);
    // @ts-expect-error train rows are not positions
    rowsAt(rows, rows);
    // @ts-expect-error a plain Int32Array is neither
    fit(Int32Array.from([1]));
    const learnerFit: Learner['fit'] = async () => undefined;
    // @ts-expect-error a learner trains on train rows, not candidate positions
    void learnerFit(positions, { rng: null as never });
    expect(Array.from(rows)).toEqual([4, 9]); // at run time both are plain Int32Array
    expect(positions).toBeInstanceOf(Int32Array);
  });
});
