import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDriftStream, type DriftStream, type DriftStreamOptions } from "../../src/stream/driftStream.js";
import { startReaderThreads } from "../../src/threads/readerThreads.js";
import { workerDriftStream } from "../../src/threads/workerDriftStream.js";
import { ReferenceResolver } from "../../src/reference/referenceResolver.js";
import { openSource } from "../../src/sources/openSource.js";
import { EDGE_DB_OPTIONS, makePanicDb } from "../support/makePanicDb.js";

let dir: string;
let db: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-workers-"));
  db = join(dir, "edge.sqlite");
  makePanicDb(db, EDGE_DB_OPTIONS);
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function streamOptions(): DriftStreamOptions {
  const resolver = new ReferenceResolver();
  // Small batches: many units to claim.
  return { excludePrompts: new Set(), reference: "prompt", metric: "euclid", batchRows: 8, lookup: (pair) => resolver.resolve(pair)?.vector };
}

/** Every batch's ids, in the order the stream gives them. */
function idsOf(stream: DriftStream): string[] {
  const ids: string[] = [];
  for (let drifted = stream.next(); drifted !== undefined; drifted = stream.next()) {
    const id = drifted.batch.getChild("id")!;
    const other = drifted.batch.getChild("id_other")!;
    for (let i = 0; i < drifted.batch.numRows; i++) ids.push(String(other.get(i) ?? Buffer.from(id.get(i) as Uint8Array).toString("hex")));
  }
  return ids;
}

describe("workerDriftStream", () => {
  it("lets a reader thread start reading before the sink asks for the first batch, and gives the rows of one reader, in order", async () => {
    const single = openSource(db);
    const expected = idsOf(localDriftStream(single, streamOptions()));
    single.close();

    const source = openSource(db);
    try {
      const readers = startReaderThreads(source.path, 1, false, {});
      const stream = workerDriftStream(source, { ...streamOptions(), workers: 2, immutable: false, filters: {}, references: {} }, readers);
      // Nothing has asked for a batch yet: the thread, let in once its snapshot is started, claims units all the same.
      const deadline = Date.now() + 10_000;
      while (Atomics.load(readers.shared, 0) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(Atomics.load(readers.shared, 0)).toBeGreaterThan(0);
      expect(idsOf(stream)).toEqual(expected);
      await stream.close();
    } finally {
      source.close();
    }
  }, 60_000);
});
