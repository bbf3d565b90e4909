import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Float64, makeData, Vector, type RecordBatch } from "../../src/frame/arrow.js";
import { nullBitmap } from "../../src/frame/arrowColumns.js";
import {
  fromDriftedBatchTransfer,
  fromSourceBatchTransfer,
  toDriftedBatchTransfer,
  toSourceBatchTransfer,
} from "../../src/frame/batchTransfer.js";
import { BATCH_FRAME_COLUMNS, SourceBatchBuilder, type SourceRow } from "../../src/frame/sourceBatch.js";
import { RunTable } from "../../src/frame/runTable.js";
import { VectorStatus } from "../../src/frame/vectorStatus.js";

function runTable(): RunTable {
  const runs = new RunTable();
  runs.add({ run_id: "00000000-0000-7000-8000-000000000001", initial_prompt: "a cat", network: "[\"m1\"]", experiment_id: "e1" });
  runs.add({ run_id: "00000000-0000-7000-8000-000000000002", initial_prompt: "a dog", network: null, experiment_id: null });
  return runs;
}

/** A batch with every kind of value a column can hold: nulls, non-UUID ids, several models, a NULL and a NaN vector. */
function sourceBatch(runs: RunTable): RecordBatch {
  const builder = new SourceBatchBuilder(3, 8, runs);
  const rows: [Partial<SourceRow>, number, VectorStatus, number[] | null][] = [
    [{ id: "00000000-0000-7000-8000-0000000000a1", text: "héllo", text_model: "M1", started_at: 1_700_000_000_000_000 }, 0, VectorStatus.ok, [1, 2, 3]],
    [{ id: "not-a-uuid", text: null, text_model: null, completed_at: 5 }, 1, VectorStatus.null, null],
    [{ id: "00000000-0000-7000-8000-0000000000a3", embedding_model: "E2", run_index: 1, sequence_number: 7 }, 1, VectorStatus.ok, [NaN, -0, 1e-30]],
    [{ id: "00000000-0000-7000-8000-0000000000a4", text: "", run_index: 1, sequence_number: 2 ** 40 }, 0, VectorStatus.ok, [4, 5, 6]],
  ];
  for (const [partial, key, status, vector] of rows) {
    const row: SourceRow = {
      id: "",
      invocation_id: "00000000-0000-7000-8000-0000000000ff",
      embedding_model: "E1",
      started_at: null,
      completed_at: null,
      run_index: 0,
      sequence_number: 0,
      text_model: "M0",
      text: "t",
      ...partial,
    };
    builder.push(row, key, status, vector === null ? null : new Uint8Array(Float32Array.from(vector).buffer));
  }
  return builder.finish();
}

function plain(value: unknown): unknown {
  if (value instanceof Vector) return Array.from(value as Iterable<unknown>, plain);
  if (value instanceof Uint8Array) return Array.from(value);
  return value;
}

/** Every column's values, read through Arrow. */
function columns(batch: RecordBatch): Record<string, unknown[]> {
  return Object.fromEntries(
    batch.schema.fields.map((field) => {
      const column = batch.getChild(field.name)!;
      return [field.name, Array.from({ length: column.length }, (_, i) => plain(column.get(i)))];
    }),
  );
}

/** Posts `message` to another port as a worker would, moving `transfer`, and takes it there. */
function across<T>(message: T, transfer: ArrayBuffer[]): T {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(message, transfer);
    return receiveMessageOnPort(port2)!.message as T;
  } finally {
    port1.close();
    port2.close();
  }
}

describe("batch transfer between threads", () => {
  it("a source batch arrives with the same values, its buffers moved, its reference keys translated", () => {
    const runs = runTable();
    const batch = sourceBatch(runs);
    const before = columns(batch);
    const { message, transfer } = toSourceBatchTransfer(batch);
    const received = fromSourceBatchTransfer(across(message, transfer), runs, [10, 20]);
    // Moved, not copied: the sender's buffers are gone.
    expect(transfer.length).toBeGreaterThan(0);
    for (const buffer of transfer) expect(buffer.byteLength).toBe(0);
    expect(received.schema.fields.map((f) => f.name)).toEqual(batch.schema.fields.map((f) => f.name));
    const after = columns(received);
    expect(after.reference_key).toEqual([10, 20, 20, 10]);
    expect({ ...after, reference_key: before.reference_key }).toEqual(before);
    expect(after.run_id).toEqual([runs.record(0).run_id, runs.record(0).run_id, runs.record(1).run_id, runs.record(1).run_id]);
    expect(after.network).toEqual(['["m1"]', '["m1"]', null, null]);
    expect(after.id_other).toEqual([null, "not-a-uuid", null, null]);
    expect(after.text).toEqual(["héllo", null, "t", ""]);
    expect(after.vector).toEqual([[1, 2, 3], null, [NaN, -0, Math.fround(1e-30)], [4, 5, 6]]);
    expect(after.sequence_number).toEqual([0n, 0n, 7n, 2n ** 40n]);
  });

  it("a drifted batch arrives as the frame's columns and the drift, the vectors left behind", () => {
    const runs = runTable();
    const batch = sourceBatch(runs);
    const valid = Uint8Array.from([1, 0, 1, 1]);
    const nulls = nullBitmap(valid);
    const drift = makeData({ type: new Float64(), length: 4, nullCount: nulls.nullCount, nullBitmap: nulls.bitmap, data: Float64Array.from([0.5, 0, 0.25, 1]) });
    const before = columns(batch);
    const { message, transfer } = toDriftedBatchTransfer({ batch, drift });
    const received = fromDriftedBatchTransfer(across(message, transfer), runs);
    expect(received.batch.schema.fields.map((f) => f.name)).toEqual([...BATCH_FRAME_COLUMNS]);
    expect(received.batch.numRows).toBe(4);
    const after = columns(received.batch);
    expect(after).toEqual(Object.fromEntries(BATCH_FRAME_COLUMNS.map((name) => [name, before[name]])));
    const values = received.drift;
    expect(Array.from({ length: 4 }, (_, i) => (values.getValid(i) ? values.values[i] : null))).toEqual([0.5, null, 0.25, 1]);
    // The vectors stayed with the sender, untouched.
    expect(batch.getChild("vector")!.data[0]!.children[0]!.values.byteLength).toBe(4 * 3 * 4);
  });

  it("an empty batch travels too", () => {
    const runs = runTable();
    const batch = new SourceBatchBuilder(2, 4, runs).finish();
    const { message, transfer } = toSourceBatchTransfer(batch);
    const received = fromSourceBatchTransfer(across(message, transfer), runs, []);
    expect(received.numRows).toBe(0);
    expect(columns(received)).toEqual(columns(new SourceBatchBuilder(2, 4, runs).finish()));
  });
});
