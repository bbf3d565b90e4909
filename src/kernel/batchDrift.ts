import { Float64, type Data, type RecordBatch } from "../frame/arrow.js";
import type { ReferencePair, ReferencePairs } from "../frame/referencePairs.js";
import { nullableData } from "../frame/arrowColumns.js";
import { driftKernel, type KernelInput } from "./driftKernel.js";
import { emptyRunTally, emptyTally, type DriftTally, type RunTally } from "./driftTally.js";
import type { Metric } from "./metric.js";
import { REASON_CODE, reasonOfCode } from "./nullReason.js";
import { prepareReference, type PreparedReference } from "./preparedReference.js";

const FIRST_STEP = REASON_CODE.first_step;

/** Finds the reference vector of a pair, or undefined when there is none. */
export type ReferenceLookup = (pair: ReferencePair) => ArrayLike<number> | undefined;

/**
 * Runs the kernel over source batches: resolves each (prompt, model) pair
 * once, as it first appears, and keeps the tally of what was found.
 */
export class BatchDrift {
  readonly tally: DriftTally = emptyTally();
  private readonly references: (PreparedReference | undefined)[] = [];

  constructor(
    private readonly pairs: ReferencePairs,
    private readonly lookup: ReferenceLookup,
    private readonly metric: Metric,
  ) {}

  /** The batch's semantic_drift column (NULL where the kernel gave a reason). */
  run(batch: RecordBatch): Data<Float64> {
    for (let key = this.references.length; key < this.pairs.size; key++) {
      const vector = this.lookup(this.pairs.pair(key));
      this.references.push(vector === undefined ? undefined : prepareReference(vector));
    }
    return this.tallied(kernelInput(batch), runIndices(batch), this.references);
  }

  /**
   * The drift of `batch` against references of its own rows (--reference
   * first/previous): `referenceKey` indexes `references` per row, and rows
   * marked in `firstStep` have no reference by definition.
   */
  runAgainstRows(batch: RecordBatch, references: readonly (PreparedReference | undefined)[], referenceKey: Int32Array, firstStep: Uint8Array): Data<Float64> {
    return this.tallied({ ...kernelInput(batch), referenceKey }, runIndices(batch), references, firstStep);
  }

  private tallied(
    input: KernelInput,
    runs: Int32Array,
    references: readonly (PreparedReference | undefined)[],
    firstStep?: Uint8Array,
  ): Data<Float64> {
    const { drift, reason } = driftKernel(input, references, this.metric);
    if (firstStep !== undefined) {
      // After the vector's own problems, before the reference's: there is none to have problems.
      for (let i = 0; i < input.rows; i++) if (firstStep[i] && (reason[i] === 0 || reason[i]! > FIRST_STEP)) reason[i] = FIRST_STEP;
    }
    const rowPrompts = firstStep === undefined;
    const valid = new Uint8Array(input.rows);
    const tally = this.tally;
    // Rows of one run are adjacent in a batch: look its tally up once per stretch.
    let runIndex = -1;
    let run: RunTally = emptyRunTally();
    for (let i = 0; i < input.rows; i++) {
      if (runs[i] !== runIndex) {
        runIndex = runs[i]!;
        run = tally.runs[runIndex] ??= emptyRunTally();
      }
      run.rows++;
      const code = reason[i]!;
      if (code === 0) {
        valid[i] = 1;
        run.rowsWithDrift++;
        continue;
      }
      const why = reasonOfCode(code);
      tally.nullReasons[why]++;
      run.nullReasons[why] = (run.nullReasons[why] ?? 0) + 1;
      // Prompt references only: a row reference is not something the user can supply.
      if (rowPrompts && (why === "missing_reference" || why === "dimension_mismatch")) this.note(why, input, i, run);
    }
    tally.rows += input.rows;
    tally.rowsWithDrift += count(valid);
    return nullableData(new Float64(), drift, valid);
  }

  private note(why: "missing_reference" | "dimension_mismatch", input: KernelInput, row: number, run: RunTally): void {
    const key = input.referenceKey[row]!;
    const { initialPrompt, embeddingModel } = this.pairs.pair(key);
    if (why === "missing_reference") {
      const prompts = (this.tally.missing[embeddingModel] ??= {});
      prompts[initialPrompt] = (prompts[initialPrompt] ?? 0) + 1;
      run.missing[embeddingModel] = (run.missing[embeddingModel] ?? 0) + 1;
      return;
    }
    const reference = this.references[key]!.dimension;
    for (const entry of [(this.tally.mismatched[embeddingModel] ??= { dimensions: [], reference, rows: 0 }), (run.mismatched[embeddingModel] ??= { dimensions: [], reference, rows: 0 })]) {
      if (!entry.dimensions.includes(input.dimension)) entry.dimensions.push(input.dimension);
      entry.rows++;
    }
  }
}

/** The run index of each row of a source batch (its run_id column is a dictionary over the run table). */
function runIndices(batch: RecordBatch): Int32Array {
  return batch.getChild("run_id")!.data[0]!.values as Int32Array;
}

function count(valid: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < valid.length; i++) n += valid[i]!;
  return n;
}

/** The kernel's view of a source batch: flat float32 rows plus per-row status and key. */
export function kernelInput(batch: RecordBatch): KernelInput {
  const vector = batch.getChild("vector")!.data[0]!;
  return {
    rows: batch.numRows,
    dimension: (vector.type as { listSize: number }).listSize,
    values: vector.children[0]!.values as Float32Array,
    status: batch.getChild("vector_status")!.data[0]!.values as Uint8Array,
    referenceKey: batch.getChild("reference_key")!.data[0]!.values as Int32Array,
  };
}
