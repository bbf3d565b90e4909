import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePanicDb } from "./makePanicDb.js";
import { makePanicExport, type PanicExportOptions } from "./makePanicExport.js";

/**
 * The export's output, pinned: a digest of every parquet file's columns,
 * types and rows in file order (values read back through DuckDB, not file
 * bytes) and of the manifest. A change that alters what the export writes
 * changes these; if that is intended, update the digests.
 */
const PINNED: [name: string, options: PanicExportOptions, digest: string][] = [
  ["storage order", {}, "a6cd370f4fd3c25e3009f2f0ea63702fdc89083c8c4e3c6ac48833ea35b86376"],
  ["run order, prompt rows, NULL and NULL-element prompt vectors", {
    embeddingOrder: "run",
    embedPrompts: true,
    promptVector: (model, prompt, dimension) => (prompt === "yeah" ? null : model === "Dummy" ? [1, null, ...Array.from({ length: dimension - 2 }, () => 0.5)] : new Float32Array(dimension).fill(0.25)),
  }, "3b3c356a1e57ad12095714fe62512d7b2a419af0524b5ee083fbeec0918cfcce"],
  ["default prompt vectors", { embedPrompts: true }, "284d66ea3ee4b7009debeae678c15b66ba9077accdbeff1a0d22e3bb7b27373b"],
];

let dir: string;
let db: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "makePanicExport-pinned-"));
  db = join(dir, "edge.sqlite");
  makePanicDb(db, { runs: 3, steps: 6, edgeCases: true, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }, { name: "Synthetic8", dim: 8 }] });
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

async function digestOf(exportDir: string, manifest: object): Promise<string> {
  const hash = createHash("sha256");
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    for (const file of readdirSync(exportDir).sort()) {
      const reader = await connection.runAndReadAll("SELECT * FROM read_parquet($1)", [join(exportDir, file)]);
      hash.update(`${file}\n${JSON.stringify(reader.columnNames())}\n${JSON.stringify(reader.columnTypes().map(String))}\n`);
      for (const row of reader.getRowsJson()) hash.update(`${JSON.stringify(row)}\n`);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const { promptVectors, ...rest } = manifest as { promptVectors: Map<string, Map<string, ArrayLike<number | null> | null>> };
  const vectors = [...promptVectors].map(([model, byPrompt]) => [model, [...byPrompt].map(([prompt, v]) => [prompt, v === null ? null : Array.from(v)])]);
  hash.update(JSON.stringify({ ...rest, dir: undefined, vectors }));
  return hash.digest("hex");
}

describe("makePanicExport's output is pinned", () => {
  it.each(PINNED)("%s", async (name, options, digest) => {
    const exportDir = join(dir, name.replaceAll(/\W+/g, "-"));
    const manifest = await makePanicExport(db, exportDir, options);
    expect(await digestOf(exportDir, manifest)).toBe(digest);
  });
});
