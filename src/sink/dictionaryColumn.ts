import type { Data, Dictionary, Utf8, Vector } from "apache-arrow";

/**
 * One dictionary-encoded column as the sink stores it: every distinct value
 * gets one global index (its row in a side table); each batch's own
 * dictionary indices are translated to those. A dictionary object seen
 * before (the run table's, shared by all batches) is translated once.
 */
export class DictionaryColumn {
  readonly values: (string | null)[] = [];
  private readonly index = new Map<string | null, number>();
  private lastDictionary: Vector<Utf8> | undefined;
  private lastMapping = new Int32Array(0);

  /** Global indices for rows [start, start + rows) of `data`; NULL rows get 0 (masked by validity). */
  globalIndices(data: Data<Dictionary<Utf8>>, start: number, rows: number): Int32Array {
    const dictionary = data.dictionary!;
    if (dictionary !== this.lastDictionary) {
      const mapping = new Int32Array(dictionary.length);
      for (let k = 0; k < dictionary.length; k++) {
        const value = dictionary.get(k);
        let global = this.index.get(value);
        if (global === undefined) {
          global = this.values.length;
          this.values.push(value);
          this.index.set(value, global);
        }
        mapping[k] = global;
      }
      this.lastDictionary = dictionary;
      this.lastMapping = mapping;
    }
    const local = data.values as Int32Array;
    const out = new Int32Array(rows);
    for (let i = 0; i < rows; i++) out[i] = this.lastMapping[local[start + i]!] ?? 0;
    return out;
  }
}
