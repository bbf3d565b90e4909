import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { listPrompts } from "../../src/compute/listPrompts.js";
import { referenceCachePath } from "../../src/reference/referenceCacheFile.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { query, readFrame } from "../support/readParquet.js";
import { runCli } from "../support/runCli.js";
import { syntheticVector } from "../support/synthetic-embedder.mjs";

const EMBEDDER = fileURLToPath(new URL("../support/synthetic-embedder.mjs", import.meta.url));
const COMMAND = `"${process.execPath}" "${EMBEDDER}"`;

let dir: string;
let db: string;
let server: Server;
let baseUrl: string;
const serverRequests: { model: string; input: string[] }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-embed-"));
  db = join(dir, "runs.sqlite");
  makePanicDb(db, { runs: 6, steps: 8, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Synthetic768", dim: 768 }] });
  // An OpenAI-compatible embeddings endpoint, answering in base64 float32.
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const { model, input } = JSON.parse(body) as { model: string; input: string[] };
      serverRequests.push({ model, input });
      const data = input.map((text, index) => ({
        index,
        embedding: Buffer.from(new Float32Array(syntheticVector(model === "synthetic-server" ? "Synthetic768" : model, text)).buffer).toString("base64"),
      }));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function driftOf(rows: Record<string, unknown>[]): unknown[] {
  return rows.map((r) => [r.id, r.semantic_drift]);
}

describe("reference vectors from a file, a command or a server", () => {
  it("give identical output, and fill every Synthetic768 row", async () => {
    const pairs = await listPrompts({ db });
    const missing = pairs.filter((p) => p.resolved_by === "");
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.every((p) => p.embedding_model === "Synthetic768")).toBe(true);
    expect(pairs.filter((p) => p.embedding_model === "Dummy").every((p) => p.resolved_by === "builtin")).toBe(true);

    const file = join(dir, "vectors.json");
    writeFileSync(
      file,
      JSON.stringify(missing.map((p) => ({ initial_prompt: p.initial_prompt, embedding_model: p.embedding_model, vector: syntheticVector(p.embedding_model, p.initial_prompt) }))),
    );
    const viaFile = await computeDrift({ db, out: join(dir, "file.parquet"), promptVectors: file });
    const viaCmd = await computeDrift({ db, out: join(dir, "cmd.parquet"), embed: { kind: "command", command: COMMAND } });
    const viaUrl = await computeDrift({
      db,
      out: join(dir, "url.parquet"),
      embed: { kind: "server", url: baseUrl, models: { Synthetic768: "synthetic-server" } },
    });
    for (const result of [viaFile, viaCmd, viaUrl]) {
      expect(result.null_reasons.missing_reference).toBe(0);
      expect(result.rows_with_drift).toBe(result.rows);
    }
    const expected = driftOf(await readFrame(join(dir, "file.parquet")));
    expect(driftOf(await readFrame(join(dir, "cmd.parquet")))).toEqual(expected);
    expect(driftOf(await readFrame(join(dir, "url.parquet")))).toEqual(expected);
    // The server was asked for its own model name, only for what nothing else resolved.
    expect(new Set(serverRequests.map((r) => r.model))).toEqual(new Set(["synthetic-server"]));
    expect(serverRequests.flatMap((r) => r.input).sort()).toEqual(missing.map((p) => p.initial_prompt).sort());
  });

  it("keeps fetched vectors in the reference cache: a second run asks the embedder nothing", async () => {
    const out = join(dir, "cached.parquet");
    const first = await runCli(["compute", "--db", db, "--out", out, "--embed-cmd", COMMAND, "--quiet"]);
    expect(first.code).toBe(0);
    expect(existsSync(referenceCachePath(out))).toBe(true);
    const cacheBytes = readFileSync(referenceCachePath(out));
    // Recompute from scratch: the vectors come from the cache, the command is never started.
    // The embedder logs every request it gets to $EMBED_LOG (inherited from this process).
    const counted = join(dir, "count.log");
    process.env.EMBED_LOG = counted;
    try {
      const again = await computeDrift({ db, out, force: true, embed: { kind: "command", command: COMMAND } });
      expect(again.null_reasons.missing_reference).toBe(0);
    } finally {
      delete process.env.EMBED_LOG;
    }
    expect(existsSync(counted)).toBe(false);
    expect(readFileSync(referenceCachePath(out)).equals(cacheBytes)).toBe(true);
    // And `prompts` now sees them as resolved by the cache.
    const pairs = await listPrompts({ db, referenceCache: referenceCachePath(out) });
    expect(pairs.filter((p) => p.embedding_model === "Synthetic768").every((p) => p.resolved_by === "cache")).toBe(true);
  });

  it("the reference cache is part of the up-to-date check; another embedder fetches again", async () => {
    const out = join(dir, "utd.parquet");
    const spec = { kind: "command" as const, command: COMMAND };
    await computeDrift({ db, out, embed: spec });
    const mtime = statSync(out).mtimeMs;
    const again = await computeDrift({ db, out, embed: spec });
    expect(again.status).toBe("up-to-date");
    expect(statSync(out).mtimeMs).toBe(mtime);
    // Without the cache the quick check fails: the vectors are fetched again. They are the
    // same, so the rebuilt cache matches what the output records, and the output stands.
    rmSync(referenceCachePath(out));
    const counted = join(dir, "refetch.log");
    process.env.EMBED_LOG = counted;
    try {
      const refetched = await computeDrift({ db, out, embed: spec });
      expect(refetched.status).toBe("up-to-date");
    } finally {
      delete process.env.EMBED_LOG;
    }
    expect(readFileSync(counted, "utf8").trim().split("\n").length).toBeGreaterThan(0);
    expect(existsSync(referenceCachePath(out))).toBe(true);
    expect(statSync(out).mtimeMs).toBe(mtime);
    // A different embedder (here a server) does not reuse the command's vectors.
    const before = serverRequests.length;
    const viaServer = await computeDrift({ db, out, embed: { kind: "server", url: baseUrl, models: { Synthetic768: "synthetic-server" } } });
    expect(viaServer.status).toBe("computed");
    expect(serverRequests.length).toBeGreaterThan(before);
  });

  it("an embedder that fails leaves no output and a clear error", async () => {
    const out = join(dir, "failing.parquet");
    await expect(computeDrift({ db, out, embed: { kind: "command", command: "exit 3" } })).rejects.toMatchObject({
      code: "EMBED_COMMAND_FAILED",
      message: expect.stringContaining("Synthetic768"),
    });
    expect(existsSync(out)).toBe(false);
    expect(existsSync(referenceCachePath(out))).toBe(false);
  });
});

describe("panic-drift prompts", () => {
  it("lists the pairs as CSV on stdout, with what resolves each", async () => {
    const run = await runCli(["prompts", "--db", db]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("initial_prompt,embedding_model,resolved_by,rows");
    expect(lines.some((l) => l.includes(",Dummy,builtin,")), run.stdout).toBe(true);
    expect(lines.some((l) => /,Synthetic768,,\d+$/.test(l)), run.stdout).toBe(true);
    expect(run.stderr).toMatch(/^panic-drift: \d+ pairs, \d+ without a reference vector\n$/);
  });

  it("writes json and parquet files, and marks the pairs a --prompt-vectors file resolves", async () => {
    const pairs = await listPrompts({ db });
    const file = join(dir, "some.json");
    const one = pairs.find((p) => p.embedding_model === "Synthetic768")!;
    writeFileSync(file, JSON.stringify([{ initial_prompt: one.initial_prompt, embedding_model: one.embedding_model, vector: syntheticVector("Synthetic768", one.initial_prompt) }]));
    const json = await runCli(["prompts", "--db", db, "--format", "json", "--prompt-vectors", file, "--quiet"]);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { initial_prompt: string; embedding_model: string; resolved_by: string | null; rows: number }[];
    expect(listed.find((p) => p.initial_prompt === one.initial_prompt && p.embedding_model === "Synthetic768")!.resolved_by).toBe("file");
    // Nothing resolves the others yet: null, not a string.
    expect(listed.filter((p) => p.embedding_model === "Synthetic768" && p.initial_prompt !== one.initial_prompt).every((p) => p.resolved_by === null)).toBe(true);
    expect(listed.reduce((sum, p) => sum + p.rows, 0)).toBe(pairs.reduce((sum, p) => sum + p.rows, 0));

    const out = join(dir, "pairs.parquet");
    const written = await runCli(["prompts", "--db", db, "--out", out]);
    expect(written.code).toBe(0);
    const rows = await query("SELECT * FROM read_parquet($1)", [out]);
    expect(rows.length).toBe(pairs.length);
    expect(Object.keys(rows[0]!)).toEqual(["initial_prompt", "embedding_model", "resolved_by", "rows"]);
  });

  it("usage errors: parquet to a terminal, contradicting embedders", async () => {
    expect((await runCli(["prompts", "--db", db, "--format", "parquet"])).code).toBe(2);
    const both = await runCli(["compute", "--db", db, "--embed-cmd", "x", "--embed-url", baseUrl]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/contradict/);
    expect((await runCli(["compute", "--db", db, "--embed-model", "a=b"])).code).toBe(2);
    expect((await runCli(["compute", "--db", db, "--embed-url", "not a url"])).code).toBe(2);
  });
});
