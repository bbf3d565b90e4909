import { Dictionary, Int32, Utf8, type Vector } from "./arrow.js";
import { utf8Data } from "./arrowColumns.js";
import { makeVector } from "./arrow.js";

/** The frame's columns that belong to a run rather than to an embedding. */
export const RUN_COLUMNS = ["run_id", "initial_prompt", "network", "experiment_id"] as const;
export type RunColumn = (typeof RUN_COLUMNS)[number];

export interface RunRecord {
  run_id: string;
  initial_prompt: string;
  network: string | null;
  experiment_id: string | null;
}

/** Arrow dictionary ids, one per run column (stable so batches can be compared). */
const DICTIONARY_ID: Readonly<Record<RunColumn, number>> = { run_id: 1, initial_prompt: 2, network: 3, experiment_id: 4 };

export function runColumnType(column: RunColumn): Dictionary<Utf8, Int32> {
  return new Dictionary(new Utf8(), new Int32(), DICTIONARY_ID[column]);
}

/**
 * The runs of one snapshot, in a fixed order. Rows carry their run's index;
 * the four run columns are Arrow dictionary columns over these values, so a
 * prompt or a network is encoded once per run, not once per embedding.
 */
export class RunTable {
  private readonly records: RunRecord[] = [];
  private dictionaries: Partial<Record<RunColumn, Vector<Utf8>>> = {};

  add(record: RunRecord): number {
    this.records.push(record);
    this.dictionaries = {};
    return this.records.length - 1;
  }

  get size(): number {
    return this.records.length;
  }

  record(index: number): RunRecord {
    const record = this.records[index];
    if (record === undefined) throw new RangeError(`no run with index ${index}`);
    return record;
  }

  /** The column's values by run index, as the dictionary of its Arrow column. */
  dictionary(column: RunColumn): Vector<Utf8> {
    let vector = this.dictionaries[column];
    if (vector === undefined) {
      vector = makeVector(utf8Data(this.records.map((r) => r[column])));
      this.dictionaries[column] = vector;
    }
    return vector;
  }
}
