/**
 * How an export's runs are cut into units and read in the output's order.
 * Pure: the main thread cuts (unitStarts), the DuckDB thread plans its scan
 * from the same cut (unitPlan, fileInUnitOrder).
 */

/**
 * The index of each unit's first run: consecutive runs, as many as fit in
 * `batchRows` rows. A unit that holds no rows yet takes any run, so a run
 * with more rows than that is a unit of its own (with the empty runs before
 * it); the next run, even an empty one, starts a new unit.
 */
export function unitStarts(rows: readonly number[], batchRows: number): number[] {
  const starts: number[] = [];
  let unitRows = 0;
  rows.forEach((n, run) => {
    if (starts.length === 0 || (unitRows > 0 && unitRows + n > batchRows)) {
      starts.push(run);
      unitRows = 0;
    }
    unitRows += n;
  });
  return starts;
}

interface UnitPlan {
  /** Per run: its unit. */
  readonly unitOfRun: Int32Array;
  /** Per unit: the rows its runs hold, excluded runs left out (a unit is complete once that many are in). */
  readonly expected: number[];
}

/** Which unit each of `runCount` runs belongs to, and how many rows each unit is to receive. */
export function unitPlan(starts: readonly number[], rows: readonly number[], excludedRuns: ReadonlySet<number>): UnitPlan {
  const units = starts.length;
  const unitOfRun = new Int32Array(rows.length);
  const expected = new Array<number>(units).fill(0);
  for (let u = 0; u < units; u++) {
    const end = u + 1 < units ? starts[u + 1]! : rows.length;
    unitOfRun.fill(u, starts[u], end);
    for (let run = starts[u]!; run < end; run++) if (!excludedRuns.has(run)) expected[u]! += rows[run]!;
  }
  return { unitOfRun, expected };
}

/**
 * Whether embeddings.parquet holds the units' rows one unit after another
 * (each unit's rows before the next unit's), given each run's first and
 * last row number in the file (-1 for a run without rows): then the file
 * can be read in its own order, without a sort.
 */
export function fileInUnitOrder(unitOfRun: Int32Array, units: number, firstRow: readonly number[], lastRow: readonly number[]): boolean {
  const first = new Array<number>(units).fill(Infinity);
  const last = new Array<number>(units).fill(-1);
  unitOfRun.forEach((unit, run) => {
    if (firstRow[run]! < 0) return;
    first[unit] = Math.min(first[unit]!, firstRow[run]!);
    last[unit] = Math.max(last[unit]!, lastRow[run]!);
  });
  let previous = -1;
  for (let u = 0; u < units; u++) {
    if (last[u]! < 0) continue;
    if (first[u]! <= previous) return false;
    previous = last[u]!;
  }
  return true;
}
