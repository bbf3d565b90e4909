import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { PanicDriftError } from "../../src/common/errors.js";
import type { ErrorCode } from "../../src/common/errors.js";
import { parseModelMappings, ServerEmbedder } from "../../src/reference/embedServer.js";
import type { ServerEmbedderOptions } from "../../src/reference/embedServer.js";

/** What the test server received, one per request. */
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: { model?: unknown; input?: unknown; encoding_format?: unknown };
}

type Handler = (request: Received, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let requests: Received[];

// Distinctive, so that any leak into a message is unmistakable.
const API_KEY = "sk-test-DO-NOT-LEAK-7f3a9c1e5b";

/**
 * Deterministic, and exactly representable in float32 (small integers and
 * binary fractions), so base64 and JSON answers must decode to the same values.
 */
function vectorFor(text: string, dim = 4): number[] {
  const base = [text.length, (text.codePointAt(0) ?? 0) / 8, -0.5, 1.25];
  return Array.from({ length: dim }, (_, i) => base[i % base.length]! + Math.floor(i / base.length));
}

function base64Of(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((x, i) => { view.setFloat32(i * 4, x, true); });
  return Buffer.from(view.buffer).toString("base64");
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

function inputs(request: Received): string[] {
  return request.body.input as string[];
}

/** A well-behaved server; `entries` may rewrite the data array before it is sent. */
function okHandler(
  form: "base64" | "array" = "base64",
  entries: (data: { index: number; embedding: unknown }[], request: Received) => unknown[] = (data) => data,
): Handler {
  return (request, res) => {
    const data = inputs(request).map((text, index) => ({
      index,
      embedding: form === "base64" ? base64Of(vectorFor(text)) : vectorFor(text),
    }));
    send(res, 200, { object: "list", data: entries(data, request), model: request.body.model });
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: Received = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Received["body"],
      };
      requests.push(request);
      if (request.method !== "POST" || request.url !== "/v1/embeddings") {
        send(res, 404, { error: { message: `no route ${request.method} ${request.url}` } });
        return;
      }
      handler(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // The trailing slash is how users often write it.
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  handler = okHandler();
});

function embedder(options: Partial<ServerEmbedderOptions> = {}): ServerEmbedder {
  return new ServerEmbedder({ baseUrl, retryBaseMs: 1, timeoutMs: 2000, ...options });
}

async function failure(promise: Promise<unknown>, code: ErrorCode = "EMBED_SERVER_FAILED"): Promise<PanicDriftError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PanicDriftError);
  const error = err as PanicDriftError;
  expect(error.code, error.message).toBe(code);
  expect(error.message).not.toContain("\n");
  expect(inspect(error, { depth: 10 })).not.toContain(API_KEY);
  return error;
}

const TEXTS = ["a cat, sitting on a mat", "rocket 🚀", "", "line one\nline two", "zebra"];

describe("ServerEmbedder: answers", () => {
  it("decodes base64 and float-array answers to identical Float64Arrays", async () => {
    const fromBase64 = await embedder().embed("m", TEXTS);
    handler = okHandler("array");
    const fromArrays = await embedder().embed("m", TEXTS);
    for (const vector of [...fromBase64, ...fromArrays]) expect(vector).toBeInstanceOf(Float64Array);
    expect(fromBase64).toEqual(TEXTS.map((t) => Float64Array.from(vectorFor(t))));
    expect(fromArrays).toEqual(fromBase64);
    expect(requests.map((r) => r.body.encoding_format)).toEqual(["base64", "base64"]);
  });

  it("orders the answer by index, not by position", async () => {
    handler = okHandler("base64", (data) => [data[2], data[0], data[4], data[1], data[3]]);
    const vectors = await embedder().embed("m", TEXTS);
    expect(vectors).toEqual(TEXTS.map((t) => Float64Array.from(vectorFor(t))));
  });

  it("sends batches of at most batchSize texts", async () => {
    const vectors = await embedder({ batchSize: 2 }).embed("nomic-embed-text", TEXTS);
    expect(vectors).toEqual(TEXTS.map((t) => Float64Array.from(vectorFor(t))));
    expect(requests.map((r) => r.body)).toEqual([
      { model: "nomic-embed-text", input: TEXTS.slice(0, 2), encoding_format: "base64" },
      { model: "nomic-embed-text", input: TEXTS.slice(2, 4), encoding_format: "base64" },
      { model: "nomic-embed-text", input: TEXTS.slice(4), encoding_format: "base64" },
    ]);
    expect(requests.every((r) => r.url === "/v1/embeddings" && r.method === "POST")).toBe(true);
  });

  it("sends nothing for no texts", async () => {
    expect(await embedder().embed("m", [])).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it("sends the server's model name for a mapped model, and other names as they are", async () => {
    const models = parseModelMappings(["nomic-embed-text=nomic-embed-text:v1.5", "clip = jina-clip-v2"]);
    const e = embedder({ models });
    await e.embed("nomic-embed-text", ["a"]);
    await e.embed("clip", ["b"]);
    await e.embed("unmapped", ["c"]);
    expect(requests.map((r) => r.body.model)).toEqual(["nomic-embed-text:v1.5", "jina-clip-v2", "unmapped"]);
  });

  it("sends the bearer key when one is given, and no authorization header otherwise", async () => {
    await embedder({ apiKey: API_KEY }).embed("m", ["a"]);
    await embedder().embed("m", ["a"]);
    await embedder({ apiKey: "" }).embed("m", ["a"]);
    expect(requests[0]?.headers["authorization"]).toBe(`Bearer ${API_KEY}`);
    expect(requests[1]?.headers["authorization"]).toBeUndefined();
    expect(requests[2]?.headers["authorization"]).toBeUndefined();
    for (const r of requests) expect(r.headers["content-type"]).toBe("application/json");
  });

  it("records the normalised base URL as its source", () => {
    expect(embedder().source).toBe(`url:${baseUrl.replace(/\/$/, "")}`);
    expect(new ServerEmbedder({ baseUrl: "http://LOCALHOST:11434//" }).source).toBe("url:http://localhost:11434");
  });
});

describe("ServerEmbedder: retries", () => {
  it("waits as long as a 429's Retry-After says, then succeeds", async () => {
    handler = (request, res) => {
      if (requests.length === 1) send(res, 429, { error: { message: "slow down" } }, { "retry-after": "1" });
      else okHandler()(request, res);
    };
    const started = Date.now();
    const vectors = await embedder().embed("m", ["a"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(vectors).toEqual([Float64Array.from(vectorFor("a"))]);
    expect(requests).toHaveLength(2);
  });

  it("retries 503 twice, then succeeds", async () => {
    handler = (request, res) => {
      if (requests.length <= 2) send(res, 503, "Service Unavailable");
      else okHandler()(request, res);
    };
    expect(await embedder().embed("m", ["a", "b"])).toHaveLength(2);
    expect(requests).toHaveLength(3);
  });

  it("gives up after maxAttempts when every answer is 500", async () => {
    handler = (_request, res) => { send(res, 500, { error: { message: "CUDA out of memory" } }); };
    const err = await failure(embedder({ maxAttempts: 3 }).embed("m", ["a"]));
    expect(requests).toHaveLength(3);
    expect(err.message).toMatch(/HTTP 500 \("CUDA out of memory"\) \(gave up after 3 attempts\): .*check its log/);
  });

  it("retries a refused connection, then says so", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    const e = new ServerEmbedder({ baseUrl: `http://127.0.0.1:${port}/v1`, fetch: counting, retryBaseMs: 1, maxAttempts: 3 });
    const err = await failure(e.embed("m", ["a"]));
    expect(calls).toBe(3);
    expect(err.message).toMatch(
      new RegExp(`http://127\\.0\\.0\\.1:${port}/v1/embeddings .*connection refused.*3 attempts\\): check that the server is running`),
    );
  });

  it("gives up on a server that never answers", async () => {
    handler = () => undefined;
    const err = await failure(embedder({ timeoutMs: 1000, maxAttempts: 2 }).embed("m", ["a"]));
    expect(requests).toHaveLength(2);
    expect(err.message).toMatch(/no answer within 1000 ms \(gave up after 2 attempts\)/);
  });

  it("fails at once on a 400, quoting the server's message", async () => {
    handler = (_request, res) => { send(res, 400, { error: { message: "input is too long for this model", type: "invalid_request_error" } }); };
    const err = await failure(embedder().embed("m", ["a"]));
    expect(requests).toHaveLength(1);
    expect(err.message).toMatch(/HTTP 400 \("input is too long for this model"\): check that the server serves model "m"/);
  });

  it("fails at once on a 401, pointing at the key", async () => {
    handler = (_request, res) => { send(res, 401, { error: "Unauthorized" }); };
    const err = await failure(embedder({ apiKey: API_KEY }).embed("m", ["a"]));
    expect(requests).toHaveLength(1);
    expect(err.message).toMatch(/HTTP 401 \("Unauthorized"\): check the API key/);
  });

  it("fails at once on a 404, pointing at the base URL", async () => {
    const e = new ServerEmbedder({ baseUrl: baseUrl.replace("/v1/", "/"), retryBaseMs: 1 });
    const err = await failure(e.embed("m", ["a"]));
    expect(requests).toHaveLength(1);
    expect(err.message).toMatch(/HTTP 404 \("no route POST \/embeddings"\): check that the base URL is the API root/);
  });

  it("fails pending requests when closed", async () => {
    handler = () => undefined;
    const e = embedder();
    const pending = e.embed("m", ["a"]);
    while (requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await e.close();
    expect((await failure(pending)).message).toMatch(/the embedder was closed/);
    await failure(e.embed("m", ["b"]));
    expect(requests).toHaveLength(1);
  });
});

describe("ServerEmbedder: invalid answers", () => {
  const cases: [string, Handler, RegExp][] = [
    ["non-JSON", (_r, res) => { send(res, 200, "<html>It works!</html>"); }, /the answer is not JSON \(it starts "<html>It works!<\/html>"\)/],
    ["JSON that is not an object", (_r, res) => { send(res, 200, [1, 2]); }, /the answer is an array, not a JSON object/],
    ["no data", (_r, res) => { send(res, 200, { embeddings: [] }); }, /"data" is missing, not an array/],
    ["too few entries", okHandler("base64", (data) => data.slice(1)), /the answer has 1 embeddings for 2 texts/],
    ["too many entries", okHandler("base64", (data) => [...data, data[0]]), /the answer has 3 embeddings for 2 texts/],
    [
      "an entry without index",
      okHandler("array", (data) => [data[0], { embedding: data[1]?.embedding }]),
      /data\[1\] has no index, not an integer from 0 to 1/,
    ],
    [
      "a repeated index",
      okHandler("array", (data) => [data[1], { ...data[0], index: 1 }]),
      /data\[1\] repeats index 1/,
    ],
    [
      "an index out of range",
      okHandler("array", (data) => [data[0], { ...data[1], index: 2 }]),
      /data\[1\] has index 2, not an integer from 0 to 1/,
    ],
    [
      "an entry without embedding",
      okHandler("array", (data) => [data[0], { index: 1 }]),
      /data\[1\] \(index 1\) has no embedding/,
    ],
    [
      "an empty embedding",
      okHandler("array", (data) => [data[0], { index: 1, embedding: [] }]),
      /data\[1\] \(index 1\) has an empty embedding/,
    ],
    [
      "an empty base64 embedding",
      okHandler("base64", (data) => [data[0], { index: 1, embedding: "" }]),
      /data\[1\] \(index 1\) has an empty embedding/,
    ],
    [
      "a null element",
      okHandler("array", (data) => [data[0], { index: 1, embedding: [0.5, null] }]),
      /data\[1\] \(index 1\) embedding\[1\] is null, not a number/,
    ],
    [
      "a number too large for float64",
      (_r, res) => { send(res, 200, '{"data": [{"index": 0, "embedding": [1, 2]}, {"index": 1, "embedding": [1, 1e400]}]}'); },
      /data\[1\] \(index 1\) embedding\[1\] is Infinity, not a finite number/,
    ],
    [
      "a NaN in base64",
      okHandler("base64", (data) => [data[0], { index: 1, embedding: base64Of([0.5, NaN, 1, 2]) }]),
      /data\[1\] \(index 1\) embedding\[1\] is NaN, not a finite number/,
    ],
    [
      "base64 of a length that is not a multiple of 4",
      okHandler("base64", (data) => [data[0], { index: 1, embedding: Buffer.alloc(6).toString("base64") }]),
      /data\[1\] \(index 1\) embedding decodes to 6 bytes, not a whole number of float32 values/,
    ],
    [
      "a string that is not base64",
      okHandler("base64", (data) => [data[0], { index: 1, embedding: "not base64!" }]),
      /data\[1\] \(index 1\) embedding is a string but not base64/,
    ],
    [
      "two dimensions in one batch",
      okHandler("array", (data) => [data[0], { index: 1, embedding: [1, 2, 3] }]),
      /the embedding of text 2 "second" has dimension 3 but the batch's first has dimension 4/,
    ],
  ];
  for (const [name, serve, pattern] of cases) {
    it(`reports ${name}`, async () => {
      handler = serve;
      const err = await failure(embedder().embed("m", ["first", "second"]));
      expect(err.message).toMatch(pattern);
      expect(requests).toHaveLength(1);
    });
  }

  it("reports a dimension that changes between batches and between calls", async () => {
    handler = (request, res) => {
      const dim = requests.length === 1 ? 4 : 8;
      send(res, 200, { data: inputs(request).map((text, index) => ({ index, embedding: vectorFor(text, dim) })) });
    };
    const err = await failure(embedder({ batchSize: 1 }).embed("m", ["first", "second"]));
    expect(err.message).toMatch(
      /texts? 2 of 2 \(first "second"\): the embedding of text 2 "second" has dimension 8 but earlier batches of this model have dimension 4/,
    );

    requests = [];
    const e = embedder();
    await e.embed("m", ["first"]);
    await failure(e.embed("m", ["second"]));
    // Another model may have another dimension.
    expect(await e.embed("other", ["third"])).toHaveLength(1);
  });
});

describe("ServerEmbedder: messages", () => {
  it("names the URL, both model names, the batch and its first text, cut to 60 characters", async () => {
    handler = (_request, res) => { send(res, 400, { error: { message: "model not found" } }); };
    const longText = `${"x".repeat(100)}\nsecond line`;
    const e = embedder({ models: new Map([["nomic-embed-text", "nomic-embed-text:v1.5"]]), batchSize: 2 });
    const err = await failure(e.embed("nomic-embed-text", [longText, "b", "c"]));
    expect(err.message).toBe(
      `embedding server ${baseUrl}embeddings failed for model "nomic-embed-text" ` +
        `(server model "nomic-embed-text:v1.5"), texts 1-2 of 3 (first "${"x".repeat(59)}…"): ` +
        'HTTP 400 ("model not found"): check that the server serves model "nomic-embed-text:v1.5" and accepts these ' +
        "texts (map a panic-tda model to the server's name with NAME=SERVER_MODEL)",
    );
  });

  it("never shows the API key, even when the server echoes it back", async () => {
    const echo = (request: Received): string => `bad header authorization: ${String(request.headers["authorization"])}`;
    const servers: Handler[] = [
      (request, res) => { send(res, 400, { error: { message: echo(request) } }); },
      (request, res) => { send(res, 401, { error: echo(request) }); },
      (request, res) => { send(res, 500, { message: echo(request) }); },
      (request, res) => { send(res, 422, `<html>${echo(request)}</html>`); },
      // The 200-character cut falls inside the key: no piece of it may be left behind.
      (request, res) => { send(res, 403, `${"-".repeat(160)} ${echo(request)}`); },
      (request, res) => { send(res, 200, `${echo(request)} is not JSON`); },
    ];
    for (const serve of servers) {
      handler = serve;
      // Surrounding whitespace (a key read from a file) is trimmed, not sent.
      const err = await failure(embedder({ apiKey: `  ${API_KEY}\n`, maxAttempts: 2 }).embed("m", ["a"]));
      expect(err.message).toMatch(/Bearer \[reda/);
      expect(err.message).not.toContain(API_KEY.slice(0, 5));
    }
    expect(requests.every((r) => r.headers["authorization"] === `Bearer ${API_KEY}`)).toBe(true);

    // A key fetch would refuse as a header is rejected without quoting it.
    const err = await failure(Promise.resolve().then(() => embedder({ apiKey: `${API_KEY} two` })), "USAGE");
    expect(err.message).not.toContain(API_KEY);
  });
});

describe("ServerEmbedder: options", () => {
  it("rejects unusable base URLs and numbers as usage errors", async () => {
    const bad: Partial<ServerEmbedderOptions>[] = [
      { baseUrl: "localhost:11434/v1" },
      { baseUrl: "not a url" },
      { baseUrl: "ftp://host/v1" },
      { baseUrl: "http://user:secret@host/v1" },
      { batchSize: 0 },
      { batchSize: 1.5 },
      { maxAttempts: 0 },
      { timeoutMs: Number.NaN },
      { retryBaseMs: -1 },
    ];
    for (const options of bad) {
      const err = await failure(Promise.resolve().then(() => embedder(options)), "USAGE");
      expect(err.exitCode).toBe(2);
      expect(err.message).not.toContain("secret");
    }
  });
});

describe("parseModelMappings", () => {
  it("parses NAME=SERVER_MODEL values, splitting at the first =", () => {
    expect(parseModelMappings([])).toEqual(new Map());
    expect(parseModelMappings(["a=b", "c=d=e", "a=b"])).toEqual(
      new Map([
        ["a", "b"],
        ["c", "d=e"],
      ]),
    );
  });

  const cases: [string, RegExp][] = [
    ["nomic-embed-text", /"nomic-embed-text" has no "=": write NAME=SERVER_MODEL/],
    ["=server", /"=server" has no model name before the =/],
    ["name=", /"name=" has no server model after the =/],
    [" = ", /has no model name before the =/],
  ];
  for (const [value, pattern] of cases) {
    it(`rejects ${JSON.stringify(value)}`, async () => {
      const err = await failure(Promise.resolve().then(() => parseModelMappings(["ok=fine", value])), "USAGE");
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(pattern);
    });
  }

  it("rejects one name mapped to two server models", async () => {
    const err = await failure(Promise.resolve().then(() => parseModelMappings(["a=b", "a=c"])), "USAGE");
    expect(err.message).toMatch(/"a" is mapped to both "b" and "c": keep one mapping/);
  });
});
