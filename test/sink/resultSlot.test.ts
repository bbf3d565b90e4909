import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCacheMetadata, RESULT_KEY, resultJson, settingsKeyValue } from "../../src/sink/cacheMetadata.js";
import { fillResultSlot, resultPlaceholder } from "../../src/sink/resultSlot.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-slot-"));
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const settings = {
  format: "2",
  tool_version: "0.0.0",
  source: "test",
  metric: "euclid",
  reference: "prompt",
  filters: "",
  exclusions: "[]",
  reference_digest: "d",
  input_fingerprint: "{}",
};

/** A parquet file written by DuckDB with the settings and a reserved slot, as the sink writes it. */
async function writeWithSlot(path: string, placeholder: string): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const kv = [...Object.entries(settingsKeyValue(settings)), [RESULT_KEY, placeholder]].map(([k, v]) => `'${k}': '${v}'`).join(", ");
  await connection.run(`COPY (SELECT range AS n, 'text ' || range AS t FROM range(5000)) TO '${path}' (FORMAT parquet, KV_METADATA {${kv}})`);
  connection.closeSync();
  instance.closeSync();
}

async function duckdbRead(path: string): Promise<{ rows: number; result: string }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const rows = Number((await connection.runAndReadAll(`SELECT count(*) FROM '${path}'`)).getRows()[0]![0]);
  const kv = (await connection.runAndReadAll(`SELECT decode(value) FROM parquet_kv_metadata('${path}') WHERE decode(key) = '${RESULT_KEY}'`)).getRows();
  connection.closeSync();
  instance.closeSync();
  return { rows, result: String(kv[0]![0]) };
}

/** Bytes of the file outside its footer, and the footer. */
function parts(path: string): { body: Buffer; footer: Buffer } {
  const bytes = readFileSync(path);
  const length = bytes.readUInt32LE(bytes.byteLength - 8);
  return { body: bytes.subarray(0, bytes.byteLength - 8 - length), footer: bytes.subarray(bytes.byteLength - 8 - length, bytes.byteLength - 8) };
}

const RESULT = { rows: "5000", rows_with_drift: "4990", null_reasons: '{"null_vector":10}', warnings: '["ünïcode warning"]' };

describe("the result slot", () => {
  it.each([
    ["a short result", RESULT],
    ["a result far longer than the placeholder", { ...RESULT, run_tallies: JSON.stringify(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [i, { rows: i }]))) }],
  ])("is filled with %s: the rows' bytes as DuckDB wrote them, no padding, read back by the cache check and by DuckDB", async (_name, result) => {
    const path = join(dir, `filled-${"run_tallies" in result ? "long" : "short"}.parquet`);
    const placeholder = resultPlaceholder();
    await writeWithSlot(path, placeholder);
    const before = parts(path);
    const json = resultJson(result);
    fillResultSlot(path, placeholder, json);
    const after = parts(path);
    expect(after.body.equals(before.body)).toBe(true);
    // A thrift binary: a varint of its length (7 bits a byte), then the bytes.
    const field = (text: string) => Buffer.byteLength(text) + Math.ceil(Math.log2(Buffer.byteLength(text) + 1) / 7);
    expect(after.footer.byteLength - before.footer.byteLength).toBe(field(json) - field(placeholder));
    expect(readFileSync(path).includes(Buffer.from(placeholder))).toBe(false);
    expect(after.footer.includes(Buffer.from("    "))).toBe(false);
    const found = readCacheMetadata(path);
    expect(found).toMatchObject({ ...settings, ...result });
    const read = await duckdbRead(path);
    expect(read.rows).toBe(5000);
    expect(JSON.parse(read.result)).toMatchObject({ rows: 5000, rows_with_drift: 4990, null_reasons: { null_vector: 10 }, warnings: ["ünïcode warning"] });
  });

  it("is queried by DuckDB's json_extract as numbers and nested objects", async () => {
    const path = join(dir, "query.parquet");
    const placeholder = resultPlaceholder();
    await writeWithSlot(path, placeholder);
    fillResultSlot(path, placeholder, resultJson(RESULT));
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    const rows = (
      await connection.runAndReadAll(
        `SELECT json_extract(decode(value), '$.null_reasons.null_vector')::INTEGER, json_extract(decode(value), '$.rows')::INTEGER
         FROM parquet_kv_metadata('${path}') WHERE decode(key) = '${RESULT_KEY}'`,
      )
    ).getRows();
    connection.closeSync();
    instance.closeSync();
    expect(rows).toEqual([[10, 5000]]);
  });

  it("refuses a file without the placeholder, leaving it as it was", async () => {
    const path = join(dir, "other.parquet");
    await writeWithSlot(path, resultPlaceholder());
    const before = readFileSync(path);
    expect(() => { fillResultSlot(path, resultPlaceholder(), "{}"); }).toThrow(/slot/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("a file whose slot was never filled is not taken as an up-to-date cache", async () => {
    const path = join(dir, "unfilled.parquet");
    await writeWithSlot(path, resultPlaceholder());
    expect(readCacheMetadata(path)).toBeUndefined();
  });

  it("reads the result of files written when every field was JSON text", async () => {
    const path = join(dir, "older.parquet");
    const placeholder = resultPlaceholder();
    await writeWithSlot(path, placeholder);
    fillResultSlot(path, placeholder, JSON.stringify(RESULT));
    expect(readCacheMetadata(path)).toMatchObject(RESULT);
  });
});
