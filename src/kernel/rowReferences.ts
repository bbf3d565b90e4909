import type { RecordBatch } from "../frame/arrow.js";
import type { DriftedBatch } from "../frame/driftedBatch.js";
import { SortKeys } from "../frame/outputOrder.js";
import { VectorStatus } from "../frame/vectorStatus.js";
import type { BatchDrift } from "./batchDrift.js";
import { kernelInput } from "./batchDrift.js";
import { prepareReference, type PreparedReference } from "./preparedReference.js";
import type { ReferenceMode } from "./referenceMode.js";

/**
 * The drift of a unit's batches (whole runs, vectors intact) against rows
 * of their own runs. Rows are taken in the output's order (run, model,
 * sequence_number, id): under `first` a (run, model)'s first row is every
 * row's reference (its own drift is 0), under `previous` the row before it
 * (the first row has none: NULL, first_step). A reference whose vector is
 * unusable makes its rows NULL (missing_reference, or zero_reference).
 */
export function driftAgainstRows(batches: readonly RecordBatch[], kernel: BatchDrift, mode: Exclude<ReferenceMode, "prompt">): DriftedBatch[] {
  const keys = new SortKeys(batches.map((batch) => ({ batch })));
  const order = keys.order();
  const total = order.length;
  // The global row each row is measured against, or -1.
  const referenceRow = new Int32Array(total).fill(-1);
  let groupStart = 0;
  for (let p = 0; p < total; p++) {
    const row = order[p]!;
    if (p > 0 && !keys.sameGroup(order[p - 1]!, row)) groupStart = p;
    if (mode === "first") referenceRow[row] = order[groupStart]!;
    else if (p > groupStart) referenceRow[row] = order[p - 1]!;
  }

  const inputs = batches.map(kernelInput);
  const references: (PreparedReference | undefined)[] = [];
  const referenceIndex = new Map<number, number>();
  // Unit vectors of the reference rows in one reused buffer (under `previous` nearly every row is one).
  let floats = 0;
  for (let row = 0; row < total; row++) {
    const reference = referenceRow[row]!;
    if (reference >= 0 && !referenceIndex.has(reference)) {
      referenceIndex.set(reference, -1);
      floats += inputs[keys.piece[reference]!]!.dimension;
    }
  }
  const pool = unitPool(floats);
  let used = 0;
  const prepared = (row: number): number => {
    let index = referenceIndex.get(row)!;
    if (index < 0) {
      index = references.length;
      const input = inputs[keys.piece[row]!]!;
      references.push(prepareRow(input, keys.row[row]!, pool.subarray(used, used + input.dimension)));
      used += input.dimension;
      referenceIndex.set(row, index);
    }
    return index;
  };

  let global = 0;
  return batches.map((batch) => {
    const n = batch.numRows;
    const referenceKey = new Int32Array(n);
    const firstStep = new Uint8Array(n);
    for (let r = 0; r < n; r++, global++) {
      const reference = referenceRow[global]!;
      if (reference < 0) {
        firstStep[r] = 1;
        referenceKey[r] = -1;
      } else {
        referenceKey[r] = prepared(reference);
      }
    }
    return { batch, drift: kernel.runAgainstRows(batch, references, referenceKey, firstStep) };
  });
}

/** A row's vector as a reference (its unit vector written into `into`), or undefined when it has none usable (NULL, odd blob, NaN/Inf). */
function prepareRow(input: ReturnType<typeof kernelInput>, row: number, into: Float64Array): PreparedReference | undefined {
  if (input.status[row] !== VectorStatus.ok) return undefined;
  const vector = input.values.subarray(row * input.dimension, (row + 1) * input.dimension);
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i]!)) return undefined;
  return prepareReference(vector, into);
}

let pooled = new Float64Array(0);

/** A buffer of at least `floats` float64s, reused from unit to unit (one unit is done before the next starts, per thread). */
function unitPool(floats: number): Float64Array {
  if (pooled.length < floats) pooled = new Float64Array(Math.max(floats, pooled.length * 2));
  return pooled;
}
