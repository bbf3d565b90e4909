/**
 * Image blobs are never read, in either generation, through the indexes or
 * in storage order, even with image embeddings (the second generation embeds
 * images too). Measured as the bytes the process reads (Linux /proc/self/io
 * `rchar`): the images are most of each file. In a file of its own: nothing
 * else may read files in this process meanwhile.
 *
 * The second generation needs care here: its `output_image` column comes
 * before `type`, `model` and `id`, so reading any of those on an image row
 * would walk the blob's overflow pages (see SqliteLayout.textPrecondition).
 */
import Database from "better-sqlite3";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReferencePairs } from "../../src/frame/referencePairs.js";
import { openSource } from "../../src/sources/openSource.js";
import { makePanicDb, type PanicDbLayout } from "../support/makePanicDb.js";

const IMAGE_BYTES = 1024 * 1024;
const haveIo = existsSync("/proc/self/io");
const bytesRead = (): number => Number(/^rchar: (\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"))![1]);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-images-"));
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const LAYOUTS: [PanicDbLayout, { invocation: string; image: string; indexes: string }][] = [
  ["gen1", { invocation: "invocation", image: "IMAGE", indexes: "DROP INDEX ix_invocation_run_id; DROP INDEX ix_embedding_invocation_id;" }],
  [
    "gen2",
    {
      invocation: "invocations",
      image: "image",
      indexes: "DROP INDEX invocations_unique_run_sequence_index; DROP INDEX embeddings_unique_invocation_model_index;",
    },
  ],
];

describe.skipIf(!haveIo)("image blobs are never read", () => {
  it.each(LAYOUTS)("%s: a whole scan and the pair counts, ordered and in storage order, read a small part of the file", (layout, names) => {
    const indexed = join(dir, `${layout}.sqlite`);
    const manifest = makePanicDb(indexed, { layout, runs: 3, steps: 12, imageBytes: IMAGE_BYTES, embeddingModels: [{ name: "Dummy", dim: 768 }] });
    // An image embedding model's row on every image, as the second generation's engine writes them.
    const writer = new Database(indexed);
    const images = writer.prepare(`SELECT id FROM ${names.invocation} WHERE type = ?`).pluck().all(names.image) as string[];
    // The second generation's inserted_at/updated_at are NOT NULL: the same instant as started_at.
    const stamp = layout === "gen1" ? "2025-03-03 09:00:00.000000" : "2025-03-03T09:00:00.000000Z";
    const insert = writer.prepare(
      layout === "gen1"
        ? "INSERT INTO embedding (id, invocation_id, embedding_model, started_at, completed_at, vector) VALUES (?, ?, 'DummyVision', ?, ?, ?)"
        : "INSERT INTO embeddings (id, invocation_id, embedding_model, started_at, completed_at, vector, inserted_at, updated_at) VALUES (?, ?, 'DummyVision', ?, ?, ?, ?, ?)",
    );
    images.forEach((id, i) => {
      const uuid = `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
      const row = [layout === "gen1" ? uuid.replaceAll("-", "") : uuid, id, stamp, stamp, Buffer.alloc(768 * 4, 1)];
      insert.run(...(layout === "gen1" ? row : [...row, stamp, stamp]));
    });
    writer.pragma("wal_checkpoint(TRUNCATE)");
    writer.close();
    const bare = join(dir, `${layout}-bare.sqlite`);
    copyFileSync(indexed, bare);
    const dropper = new Database(bare);
    dropper.exec(names.indexes);
    dropper.pragma("wal_checkpoint(TRUNCATE)");
    dropper.close();

    const imageTotal = images.length * IMAGE_BYTES;
    expect(imageTotal).toBeGreaterThan(0.9 * statSync(indexed).size);
    for (const [path, ordered] of [[indexed, true], [bare, false]] as const) {
      const before = bytesRead();
      const source = openSource(path);
      try {
        expect(source.ordered).toBe(ordered);
        const options = { excludePrompts: new Set<string>(), pairs: new ReferencePairs(), batchRows: 64 };
        const units = source.units(options.batchRows);
        let rows = 0;
        for (let unit = 0; unit < units; unit++) for (const batch of source.scanUnit(options, unit)) rows += batch.numRows;
        expect(rows).toBe(manifest.textEmbeddingRows);
        const pairs = source.pairCounts(new Set());
        expect(pairs.reduce((n, p) => n + p.rows, 0)).toBe(manifest.textEmbeddingRows);
        expect(pairs.map((p) => p.embeddingModel)).not.toContain("DummyVision");
      } finally {
        source.close();
      }
      // Reading one image of the 18 would already pass 1 MB.
      expect(bytesRead() - before, `${layout}, ${ordered ? "ordered" : "storage order"}`).toBeLessThan(IMAGE_BYTES);
    }
  });
});
