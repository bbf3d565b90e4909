import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCacheMetadata, RESULT_KEY, resultJson, settingsKeyValue } from "../../src/sink/cacheMetadata.js";
import { fillResultSlot, RESULT_SLOT_BYTES, resultPlaceholder } from "../../src/sink/resultSlot.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-slot-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe("the result slot", () => {
  it("is filled in place: same size, still a valid parquet file, read back by the cache check and by DuckDB", async () => {
    const path = join(dir, "filled.parquet");
    const placeholder = resultPlaceholder();
    expect(Buffer.byteLength(placeholder)).toBe(RESULT_SLOT_BYTES);
    await writeWithSlot(path, placeholder);
    const size = statSync(path).size;
    const json = resultJson({ rows: "5000", rows_with_drift: "4990", null_reasons: '{"null_vector":10}', warnings: '["ünïcode warning"]' }, RESULT_SLOT_BYTES);
    fillResultSlot(path, placeholder, json);
    expect(statSync(path).size).toBe(size);
    expect(readFileSync(path).includes(Buffer.from(placeholder.slice(0, 40)))).toBe(false);
    const found = await readCacheMetadata(path);
    expect(found).toMatchObject({ ...settings, rows: "5000", rows_with_drift: "4990", null_reasons: '{"null_vector":10}', warnings: '["ünïcode warning"]' });
    const read = await duckdbRead(path);
    expect(read.rows).toBe(5000);
    expect(JSON.parse(read.result)).toMatchObject({ rows: "5000" });
  });

  it("refuses a file without the placeholder, and a value longer than the slot", async () => {
    const path = join(dir, "other.parquet");
    await writeWithSlot(path, resultPlaceholder());
    const before = readFileSync(path);
    expect(() => fillResultSlot(path, resultPlaceholder(), "{}")).toThrow(/slot/);
    expect(() => fillResultSlot(path, resultPlaceholder(), "x".repeat(RESULT_SLOT_BYTES + 1))).toThrow(/does not fit/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("a file whose slot was never filled is not taken as an up-to-date cache", async () => {
    const path = join(dir, "unfilled.parquet");
    await writeWithSlot(path, resultPlaceholder());
    expect(await readCacheMetadata(path)).toBeUndefined();
  });
});

describe("resultJson", () => {
  it("keeps every warning when they fit", () => {
    const json = resultJson({ rows: "1", rows_with_drift: "1", null_reasons: "{}", warnings: '["a","b"]' }, 1000);
    expect(JSON.parse(JSON.parse(json).warnings)).toEqual(["a", "b"]);
  });

  it("cuts warnings that would not fit, and says how many", () => {
    const warnings = Array.from({ length: 50 }, (_, i) => `warning ${i} ${"x".repeat(100)}`);
    const json = resultJson({ rows: "1", rows_with_drift: "1", null_reasons: "{}", warnings: JSON.stringify(warnings) }, 2000);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(2000);
    const kept = JSON.parse(JSON.parse(json).warnings) as string[];
    expect(kept.at(-1)).toMatch(/^\(\d+ more warnings not recorded\)$/);
    expect(kept.length - 1 + Number(/\((\d+)/.exec(kept.at(-1)!)![1])).toBe(50);
  });
});
