import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DriftedBatch } from "../../src/frame/driftedBatch.js";
import { Float64, type Data } from "../../src/frame/arrow.js";
import { nullableData } from "../../src/frame/arrowColumns.js";
import { inOutputOrder } from "../../src/frame/outputOrder.js";
import { compareUtf8 } from "../../src/frame/gatherColumn.js";
import { RunTable } from "../../src/frame/runTable.js";
import { BATCH_FRAME_COLUMNS, SourceBatchBuilder, type SourceRow } from "../../src/frame/sourceBatch.js";
import { VectorStatus } from "../../src/frame/vectorStatus.js";

const RUNS = ["0a", "3f", "b7"].map((p) => `${p}${"0".repeat(30)}`);
const MODELS = ["Dummy", "Dummy2", "Zeta", "zeta", "Émile", "😀-astral", "\uffff-bmp"];

interface Case {
  run: number;
  model: string;
  seq: number;
  id: string;
  textModel: string | null;
  started: number | null;
  drift: number | null;
}

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
const caseArb: fc.Arbitrary<Case> = fc.record({
  run: fc.integer({ min: 0, max: RUNS.length - 1 }),
  model: fc.constantFrom(...MODELS),
  seq: fc.integer({ min: 0, max: 6 }),
  // Mostly UUIDs (bare or hyphenated), sometimes text that is not one.
  id: fc.oneof(
    { weight: 6, arbitrary: hex32 },
    { weight: 2, arbitrary: hex32.map((h) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 6 }).map((s) => `x${s}`) },
  ),
  textModel: fc.option(fc.constantFrom("moondream", "blip"), { nil: null }),
  started: fc.option(fc.integer({ min: -1e12, max: 2e15 }), { nil: null }),
  drift: fc.option(fc.double({ noNaN: true }), { nil: null }),
});

const isUuid = (id: string) => /^[0-9a-f]{32}$/.test(id) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
const uuidKey = (id: string) => id.replaceAll("-", "");

/** The output order, written plainly: run, model (UTF-8 bytes), step, UUIDs (as text) before other ids (UTF-8 bytes). */
function expectedOrder(a: Case, b: Case): number {
  if (a.run !== b.run) return a.run - b.run;
  if (a.model !== b.model) return compareUtf8(a.model, b.model);
  if (a.seq !== b.seq) return a.seq - b.seq;
  const au = isUuid(a.id);
  const bu = isUuid(b.id);
  if (au !== bu) return au ? -1 : 1;
  return au ? (uuidKey(a.id) < uuidKey(b.id) ? -1 : uuidKey(a.id) > uuidKey(b.id) ? 1 : 0) : compareUtf8(a.id, b.id);
}

/** Cases cut into batches of `size` rows, each with its own model dictionaries, as the kernel leaves them. */
function piecesOf(cases: Case[], size: number, runs: RunTable): DriftedBatch[] {
  const pieces: DriftedBatch[] = [];
  for (let start = 0; start < cases.length; start += size) {
    const chunk = cases.slice(start, start + size);
    const builder = new SourceBatchBuilder(4, chunk.length, runs);
    chunk.forEach((c, i) => {
      const row: SourceRow = {
        id: c.id,
        invocation_id: (start + i).toString(16).padStart(32, "0"),
        embedding_model: c.model,
        started_at: c.started,
        completed_at: null,
        run_index: c.run,
        sequence_number: c.seq,
        text_model: c.textModel,
        // The row's tag: which input row an output row came from.
        text: `row ${start + i}`,
      };
      builder.push(row, 0, VectorStatus.ok, new Uint8Array(16));
    });
    const drift = new Float64Array(chunk.map((c) => c.drift ?? 0));
    const valid = Uint8Array.from(chunk, (c) => (c.drift === null ? 0 : 1));
    pieces.push({ batch: builder.finish(), drift: nullableData<Float64>(new Float64(), drift, valid) });
  }
  return pieces;
}

function cell(data: Data, row: number): unknown {
  const batchLike = data as unknown as { getValid(i: number): boolean };
  if (!batchLike.getValid(row)) return null;
  const value = (data as unknown as { get?: (i: number) => unknown }).get?.(row);
  return value instanceof Uint8Array ? Buffer.from(value).toString("hex") : typeof value === "bigint" ? value.toString() : value;
}

/**
 * Cases as SQLite hands them over for whole runs: run by run, step by step,
 * the models of a step together (in any order); with `swap`, two rows
 * trade places, so that some (run, model) group may be out of step order.
 */
function arrivalOrder(cases: Case[], swap: [number, number] | null): Case[] {
  const arrived = [...cases].sort((a, b) => a.run - b.run || a.seq - b.seq);
  if (swap !== null && arrived.length > 1) {
    const [i, j] = swap.map((k) => k % arrived.length) as [number, number];
    [arrived[i], arrived[j]] = [arrived[j]!, arrived[i]!];
  }
  return arrived;
}

describe("inOutputOrder", () => {
  const uniqueCases = fc.uniqueArray(caseArb, { minLength: 1, maxLength: 60, selector: (c) => uuidKey(c.id) });
  it.each([
    ["in any order", uniqueCases],
    // The usual input, put in order by grouping rows by (run, model); a swap may need the full sort.
    [
      "as SQLite hands them over, or nearly",
      fc.tuple(uniqueCases, fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: null })).map(([cases, swap]) => arrivalOrder(cases, swap)),
    ],
  ])("sorts a unit's rows (%s) into the output order and carries every column with its row", (_, casesArb) => {
    fc.assert(
      fc.property(
        casesArb,
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        (cases, pieceRows, batchRows) => {
          const runs = new RunTable();
          RUNS.forEach((id, i) => runs.add({ run_id: id, initial_prompt: `p${i}`, network: i === 1 ? null : "a→b", experiment_id: null }));
          const pieces = piecesOf(cases, pieceRows, runs);
          const out = inOutputOrder(pieces, batchRows);
          expect(out.every((b) => b.batch.numRows <= batchRows && b.batch.numRows > 0)).toBe(true);

          const inputRow = (k: number) => ({ piece: pieces[Math.floor(k / pieceRows)]!, row: k % pieceRows });
          const tags: number[] = [];
          for (const { batch, drift } of out) {
            for (let i = 0; i < batch.numRows; i++) {
              const tag = Number(String(batch.getChild("text")!.get(i)).slice(4));
              tags.push(tag);
              const source = inputRow(tag);
              for (const name of BATCH_FRAME_COLUMNS) {
                expect(cell(batch.getChild(name)!.data[0]!, i), name).toEqual(cell(source.piece.batch.getChild(name)!.data[0]!, source.row));
              }
              expect(cell(drift, i)).toEqual(cell(source.piece.drift, source.row));
            }
          }
          const expected = cases.map((c, k) => ({ c, k })).sort((a, b) => expectedOrder(a.c, b.c)).map(({ k }) => k);
          expect(tags).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("returns nothing for an empty unit", () => {
    expect(inOutputOrder([], 10)).toEqual([]);
  });
});
