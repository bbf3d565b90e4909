import type { DriftedBatch } from "./driftedBatch.js";
import { makeData, RecordBatch, Schema, Struct, type Field, type Data, type Dictionary, type Utf8 } from "./arrow.js";
import { compareUtf8, gatherColumn, rankDictionaryValues } from "./gatherColumn.js";
import { BATCH_FRAME_COLUMNS } from "./sourceBatch.js";

/**
 * Puts the drifted rows of one unit of an ordered source (whole runs, in
 * the output's run order) into the output's order: run, embedding_model,
 * sequence_number, id. Only the frame's columns and the drift are kept (the
 * vectors are spent), so holding a unit costs ~150 bytes a row, whatever
 * the vectors' size.
 *
 * The order is DuckDB's on the frame's text: model names compared as UTF-8
 * bytes, ids as UUIDs (which sort like their text), and the rare id that is
 * not a UUID after the UUIDs of its (run, model, step), by its text.
 */
export function inOutputOrder(pieces: readonly DriftedBatch[], batchRows: number): DriftedBatch[] {
  const total = pieces.reduce((sum, p) => sum + p.batch.numRows, 0);
  if (total === 0) return [];
  const keys = new SortKeys(pieces);
  const order = keys.order();
  const out: DriftedBatch[] = [];
  for (let start = 0; start < total; start += batchRows) {
    out.push(gatherRows(pieces, keys, order.subarray(start, Math.min(total, start + batchRows))));
  }
  return out;
}

/** Sort keys of every row of the pieces, addressed by global row number (pieces one after another). */
export class SortKeys {
  readonly piece: Int32Array;
  readonly row: Int32Array;
  private readonly run: Int32Array;
  private readonly model: Int32Array;
  private readonly sequence: Float64Array;
  /** Id words, most significant first, as unsigned numbers; NaN marks an id that is not a UUID. */
  private readonly id: Float64Array;
  private readonly idOther: (string | null)[];

  constructor(pieces: readonly { readonly batch: RecordBatch }[]) {
    const total = pieces.reduce((sum, p) => sum + p.batch.numRows, 0);
    this.piece = new Int32Array(total);
    this.row = new Int32Array(total);
    this.run = new Int32Array(total);
    this.model = new Int32Array(total);
    this.sequence = new Float64Array(total);
    this.id = new Float64Array(total * 4);
    this.idOther = new Array<string | null>(total).fill(null);
    const modelRank = rankDictionaryValues(pieces.map((p) => column(p, "embedding_model") as Data<Dictionary<Utf8>>));
    let at = 0;
    pieces.forEach((p, k) => {
      const n = p.batch.numRows;
      const run = column(p, "run_id").values as Int32Array;
      const model = column(p, "embedding_model");
      const modelIndex = model.values as Int32Array;
      const ranks = modelRank.byPiece[k]!;
      const sequence = int32Halves(column(p, "sequence_number"));
      const idData = column(p, "id");
      const idWords = new Uint32Array(idData.values.buffer, idData.values.byteOffset, n * 4);
      const idOther = column(p, "id_other") as Data<Utf8>;
      for (let r = 0; r < n; r++, at++) {
        this.piece[at] = k;
        this.row[at] = r;
        this.run[at] = run[r]!;
        this.model[at] = ranks[modelIndex[r]!]!;
        this.sequence[at] = sequence[2 * r + 1]! * 4294967296 + (sequence[2 * r]! >>> 0);
        if (idData.getValid(r)) {
          // DuckDB's UUID layout: word 3 is the most significant, its top bit flipped.
          this.id[4 * at] = (idWords[4 * r + 3]! ^ 0x80000000) >>> 0;
          this.id[4 * at + 1] = idWords[4 * r + 2]!;
          this.id[4 * at + 2] = idWords[4 * r + 1]!;
          this.id[4 * at + 3] = idWords[4 * r]!;
        } else {
          this.id[4 * at] = Number.NaN;
          this.idOther[at] = stringAt(idOther, r);
        }
      }
    });
  }

  /** Rows of one run and one embedding model. */
  sameGroup(a: number, b: number): boolean {
    return this.run[a] === this.run[b] && this.model[a] === this.model[b];
  }

  /** Global row numbers in the output order. */
  order(): Int32Array {
    const order = new Int32Array(this.piece.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.sorted(order)) return order;
    // Rows come run by run in step order, each step's models together: grouped by
    // (run, model), keeping their order, they usually are in the output's order already.
    const grouped = this.groupedByRunAndModel();
    if (this.sorted(grouped)) return grouped;
    order.sort((a, b) => this.compare(a, b));
    return order;
  }

  /** Whether the rows listed in `order` are in the output's order. */
  sorted(order: Int32Array): boolean {
    for (let i = 1; i < order.length; i++) if (this.compare(order[i - 1]!, order[i]!) > 0) return false;
    return true;
  }

  /** Row numbers grouped by (run, model rank) in that order, rows within a group as they came (a stable counting sort). */
  private groupedByRunAndModel(): Int32Array {
    const n = this.piece.length;
    let models = 0;
    for (let i = 0; i < n; i++) if (this.model[i]! >= models) models = this.model[i]! + 1;
    // Dense group numbers in (run, model) order, over the few groups present.
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const key = this.run[i]! * models + this.model[i]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const start = new Map<number, number>();
    let at = 0;
    for (const key of [...counts.keys()].sort((a, b) => a - b)) {
      start.set(key, at);
      at += counts.get(key)!;
    }
    const grouped = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const key = this.run[i]! * models + this.model[i]!;
      const slot = start.get(key)!;
      grouped[slot] = i;
      start.set(key, slot + 1);
    }
    return grouped;
  }

  compare(a: number, b: number): number {
    return (
      this.run[a]! - this.run[b]! ||
      this.model[a]! - this.model[b]! ||
      this.sequence[a]! - this.sequence[b]! ||
      this.compareIds(a, b)
    );
  }

  private compareIds(a: number, b: number): number {
    const aUuid = !Number.isNaN(this.id[4 * a]!);
    const bUuid = !Number.isNaN(this.id[4 * b]!);
    if (aUuid && bUuid) {
      for (let w = 0; w < 4; w++) {
        const d = this.id[4 * a + w]! - this.id[4 * b + w]!;
        if (d !== 0) return d;
      }
      return 0;
    }
    if (aUuid !== bUuid) return aUuid ? -1 : 1;
    return compareUtf8(this.idOther[a] ?? "", this.idOther[b] ?? "");
  }
}

function column(piece: { readonly batch: RecordBatch; readonly drift?: Data }, name: string): Data {
  if (name === "semantic_drift") return piece.drift!;
  const child = piece.batch.getChild(name);
  if (child === null) throw new Error(`drifted batch lacks column ${name}`);
  return child.data[0]!;
}

/** An int64 column's values as little-endian int32 halves (no bigint per row). */
function int32Halves(data: Data): Int32Array {
  const values = data.values as ArrayBufferView;
  return new Int32Array(values.buffer, values.byteOffset, data.length * 2);
}

function stringAt(data: Data<Utf8>, row: number): string | null {
  return data.getValid(row) ? decodeUtf8(data, row) : null;
}

const decoder = new TextDecoder();
function decodeUtf8(data: Data<Utf8>, row: number): string {
  const offsets = data.valueOffsets;
  return decoder.decode(data.values.subarray(offsets[row], offsets[row + 1]));
}

function picks(keys: SortKeys, order: Int32Array): { pick: Int32Array; row: Int32Array } {
  const n = order.length;
  const pick = new Int32Array(n);
  const row = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    pick[i] = keys.piece[order[i]!]!;
    row[i] = keys.row[order[i]!]!;
  }
  return { pick, row };
}

/** One output batch: the rows `order` picks (global row numbers), every frame column and the drift. */
function gatherRows(pieces: readonly DriftedBatch[], keys: SortKeys, order: Int32Array): DriftedBatch {
  const { pick, row } = picks(keys, order);
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const name of BATCH_FRAME_COLUMNS) {
    const sources = pieces.map((p) => column(p, name));
    fields.push(pieces[0]!.batch.schema.fields.find((f) => f.name === name)!);
    children.push(gatherColumn(sources, pick, row));
  }
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(schema.fields), length: order.length, nullCount: 0, children });
  const drift = gatherColumn(
    pieces.map((p) => p.drift),
    pick,
    row,
  ) as DriftedBatch["drift"];
  return { batch: new RecordBatch(schema, struct), drift };
}
