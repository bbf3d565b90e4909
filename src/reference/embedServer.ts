/**
 * An Embedder backed by an OpenAI-compatible `POST {base}/embeddings` endpoint
 * (ollama, llama.cpp server, vLLM, text-embeddings-inference, OpenAI itself).
 * The server is someone else's program, so every answer is checked before a
 * vector leaves this file, and the API key is kept out of every message.
 */
import { PanicDriftError, usageError } from "../common/errors.js";
import type { Embedder } from "./embedder.js";
import { describeValue, oneLine, preview } from "./messageText.js";
import { checkNumber } from "./optionChecks.js";

export interface ServerEmbedderOptions {
  /** The API base as OpenAI clients take it, e.g. `http://localhost:11434/v1`; a trailing slash is fine. */
  baseUrl: string;
  /** panic-tda model name → server model name; a name not in the map is sent as is. */
  models?: ReadonlyMap<string, string>;
  /** Sent as `authorization: Bearer <apiKey>`; never shown in a message. */
  apiKey?: string;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Per request, body included (default 120000). */
  timeoutMs?: number;
  /** Tries per batch in total, first one included (default 5). */
  maxAttempts?: number;
  /** First retry waits about this long, doubling after each failure (default 500). */
  retryBaseMs?: number;
  /** For tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const DEFAULT_BATCH_SIZE = 64;
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_RETRY_BASE_MS = 500;
/** No wait between tries is longer, whatever the server's Retry-After says. */
const MAX_RETRY_DELAY_MS = 30_000;
/** How much of a server's error body a message quotes. */
const MAX_QUOTED_CHARS = 200;
const REDACTED = "[redacted]";

/** One try's outcome when it is worth trying again. */
interface Retryable {
  problem: string;
  fix: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/** What a message needs to say where it happened. */
interface BatchContext {
  model: string;
  serverModel: string;
  texts: readonly string[];
  /** Index of the batch's first text within the whole embed() call. */
  offset: number;
  total: number;
}

export class ServerEmbedder implements Embedder {
  readonly source: string;
  private readonly endpoint: string;
  private readonly models: ReadonlyMap<string, string>;
  private readonly apiKey: string | undefined;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly fetch: typeof fetch;
  /** Aborted by close(): stops in-flight requests and retry waits. */
  private readonly closing = new AbortController();
  /** First dimension seen per panic-tda model, so later batches must match it. */
  private readonly dimensions = new Map<string, number>();

  constructor(options: ServerEmbedderOptions) {
    const base = parseBaseUrl(options.baseUrl);
    this.source = `url:${base.origin}${base.path}${base.search}`;
    this.endpoint = `${base.origin}${base.path}/embeddings${base.search}`;
    this.models = options.models ?? new Map();
    this.apiKey = checkApiKey(options.apiKey);
    this.batchSize = checkNumber("embedding server", "batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE, 1, true);
    this.timeoutMs = checkNumber("embedding server", "timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, false);
    this.maxAttempts = checkNumber("embedding server", "maxAttempts", options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1, true);
    this.retryBaseMs = checkNumber("embedding server", "retryBaseMs", options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, 0, false);
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async embed(model: string, texts: readonly string[]): Promise<Float64Array[]> {
    const serverModel = this.models.get(model) ?? model;
    const out: Float64Array[] = [];
    for (let offset = 0; offset < texts.length; offset += this.batchSize) {
      const batch = texts.slice(offset, offset + this.batchSize);
      const context: BatchContext = { model, serverModel, texts: batch, offset, total: texts.length };
      out.push(...(await this.embedBatch(context)));
    }
    return out;
  }

  /** Aborts in-flight requests and retry waits at once (so `now` changes nothing). */
  async close(_options?: { now?: boolean }): Promise<void> {
    this.closing.abort();
  }

  // -------------------------------------------------------------------------
  // One batch: tries, waits, and the final verdict

  private async embedBatch(context: BatchContext): Promise<Float64Array[]> {
    const body = JSON.stringify({ model: context.serverModel, input: context.texts, encoding_format: "base64" });
    for (let attempt = 0; ; attempt++) {
      if (this.closing.signal.aborted) throw this.closedError(context);
      const outcome = await this.tryOnce(context, body);
      if (!("problem" in outcome)) return this.vectors(context, outcome.data);
      if (attempt + 1 >= this.maxAttempts) {
        const tries = this.maxAttempts === 1 ? "1 attempt" : `${this.maxAttempts} attempts`;
        throw this.failure(context, `${outcome.problem} (gave up after ${tries})`, outcome.fix, outcome.cause);
      }
      await this.wait(outcome.retryAfterMs ?? this.backoffMs(attempt), context);
    }
  }

  /** The parsed `data` array of a 200 answer, or why to try again; other failures throw. */
  private async tryOnce(context: BatchContext, body: string): Promise<{ data: unknown } | Retryable> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.apiKey !== undefined) headers["authorization"] = `Bearer ${this.apiKey}`;

    const request = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort();
    }, this.timeoutMs);
    const onClose = (): void => { request.abort(); };
    this.closing.signal.addEventListener("abort", onClose);

    let status: number;
    let retryAfter: string | null;
    let text: string;
    try {
      // The timeout covers the body too: a server may send headers and then stall.
      const response = await this.fetch(this.endpoint, { method: "POST", headers, body, signal: request.signal });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      text = await response.text();
    } catch (err) {
      if (this.closing.signal.aborted) throw this.closedError(context);
      if (timedOut) {
        return {
          problem: `no answer within ${this.timeoutMs} ms`,
          fix: "check that the server is not stuck, or allow more time or send smaller batches",
        };
      }
      return {
        problem: `cannot reach the server (${networkReason(err)})`,
        fix: "check that the server is running and listening at that address",
        cause: err,
      };
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener("abort", onClose);
    }

    if (status === 429 || status === 408 || status >= 500) {
      const retry: Retryable = {
        problem: `HTTP ${status}${this.quoteServer(text)}`,
        fix:
          status === 429
            ? "the server is rate-limiting; wait and run again, or send smaller batches"
            : "the server is failing or overloaded; check its log and run again",
      };
      const retryAfterMs = parseRetryAfter(retryAfter);
      if (retryAfterMs !== undefined) retry.retryAfterMs = retryAfterMs;
      return retry;
    }
    if (status !== 200) throw this.failure(context, `HTTP ${status}${this.quoteServer(text)}`, fixForStatus(status, context));

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.failure(
        context,
        `the answer is not JSON (it starts ${preview(oneLine(this.redact(text)), 60)})`,
        "check that the base URL points at the OpenAI-compatible API root (e.g. ending in /v1)",
      );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw this.failure(context, `the answer is ${describeValue(parsed)}, not a JSON object`, RESPONSE_FIX);
    }
    return { data: (parsed as Record<string, unknown>)["data"] };
  }

  private backoffMs(attempt: number): number {
    const delay = Math.min(this.retryBaseMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
    // Jitter keeps several clients that failed together from retrying together.
    return delay + Math.random() * delay * 0.1;
  }

  private wait(ms: number, context: BatchContext): Promise<void> {
    const signal = this.closing.signal;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        signal.removeEventListener("abort", onClose);
        resolve();
      };
      const onClose = (): void => {
        clearTimeout(timer);
        reject(this.closedError(context));
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", onClose, { once: true });
    });
  }

  // -------------------------------------------------------------------------
  // Checking the answer

  private vectors(context: BatchContext, data: unknown): Float64Array[] {
    const n = context.texts.length;
    if (!Array.isArray(data)) {
      throw this.failure(context, `the answer's "data" is ${describeValue(data)}, not an array`, RESPONSE_FIX);
    }
    if (data.length !== n) {
      throw this.failure(context, `the answer has ${data.length} embeddings for ${n} texts`, RESPONSE_FIX);
    }
    const byIndex: (Float64Array | undefined)[] = new Array<Float64Array | undefined>(n);
    data.forEach((entry: unknown, position) => {
      const where = `data[${position}]`;
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        throw this.failure(context, `${where} is ${describeValue(entry)}, not an object`, RESPONSE_FIX);
      }
      const record = entry as Record<string, unknown>;
      const index = record["index"];
      if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= n) {
        const got = index === undefined ? "has no index" : `has index ${describeValue(index)}`;
        throw this.failure(context, `${where} ${got}, not an integer from 0 to ${n - 1}`, RESPONSE_FIX);
      }
      if (byIndex[index] !== undefined) {
        throw this.failure(context, `${where} repeats index ${index}`, RESPONSE_FIX);
      }
      byIndex[index] = this.decode(context, record["embedding"], `${where} (index ${index})`);
    });

    // Every index is set: n distinct indices in 0..n-1.
    const vectors = byIndex as Float64Array[];
    const known = this.dimensions.get(context.model);
    const expected = known ?? vectors[0]!.length;
    vectors.forEach((vector, i) => {
      if (vector.length === expected) return;
      const other = known === undefined ? "the batch's first has" : "earlier batches of this model have";
      throw this.failure(
        context,
        `the embedding of text ${context.offset + i + 1} ${preview(context.texts[i]!, 60)} has dimension ` +
          `${vector.length} but ${other} dimension ${expected}`,
        "check that the server serves one model under this name",
      );
    });
    this.dimensions.set(context.model, expected);
    return vectors;
  }

  private decode(context: BatchContext, embedding: unknown, where: string): Float64Array {
    let values: Float64Array;
    if (typeof embedding === "string") {
      values = this.decodeBase64(context, embedding, where);
    } else if (Array.isArray(embedding)) {
      values = new Float64Array(embedding.length);
      embedding.forEach((x: unknown, i) => {
        if (typeof x !== "number") {
          throw this.failure(context, `${where} embedding[${i}] is ${describeValue(x)}, not a number`, RESPONSE_FIX);
        }
        values[i] = x;
      });
    } else {
      const got = embedding === undefined ? "has no embedding" : `has an embedding that is ${describeValue(embedding)}`;
      throw this.failure(context, `${where} ${got}, not a base64 string or an array of numbers`, RESPONSE_FIX);
    }
    if (values.length === 0) throw this.failure(context, `${where} has an empty embedding`, RESPONSE_FIX);
    // JSON turns 1e400 into Infinity; float32 bits can hold NaN and Infinity.
    const bad = values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw this.failure(context, `${where} embedding[${bad}] is ${values[bad]}, not a finite number`, RESPONSE_FIX);
    }
    return values;
  }

  private decodeBase64(context: BatchContext, text: string, where: string): Float64Array {
    // Buffer.from skips characters outside the alphabet; a mangled string must not decode to something.
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) {
      throw this.failure(context, `${where} embedding is a string but not base64`, RESPONSE_FIX);
    }
    const bytes = Buffer.from(text, "base64");
    if (bytes.length % 4 !== 0) {
      throw this.failure(
        context,
        `${where} embedding decodes to ${bytes.length} bytes, not a whole number of float32 values`,
        RESPONSE_FIX,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float64Array(bytes.length / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
    return values;
  }

  // -------------------------------------------------------------------------
  // Messages

  private failure(context: BatchContext, problem: string, fix: string, cause?: unknown): PanicDriftError {
    const { model, serverModel, texts, offset, total } = context;
    const served = serverModel === model ? "" : ` (server model ${JSON.stringify(serverModel)})`;
    const first = texts[0] ?? "";
    const which = texts.length === 1 ? `text ${offset + 1}` : `texts ${offset + 1}-${offset + texts.length}`;
    const message =
      `embedding server ${this.endpoint} failed for model ${JSON.stringify(model)}${served}, ` +
      `${which} of ${total} (first ${preview(first, 60)}): ${problem}: ${fix}`;
    return new PanicDriftError("EMBED_SERVER_FAILED", this.redact(message), cause === undefined ? undefined : { cause });
  }

  private closedError(context: BatchContext): PanicDriftError {
    return this.failure(context, "the embedder was closed", "nothing to do if the run was stopped on purpose");
  }

  /** ` ("the server's message")`, or nothing for an empty body. */
  private quoteServer(body: string): string {
    const message = serverMessage(body);
    if (message === "") return "";
    return ` (${preview(oneLine(this.redact(message)), MAX_QUOTED_CHARS)})`;
  }

  /** Some servers echo request headers in their errors; the key must not travel on from there. */
  private redact(text: string): string {
    if (this.apiKey === undefined) return text;
    let out = text;
    for (const form of new Set([this.apiKey, JSON.stringify(this.apiKey).slice(1, -1), encodeURIComponent(this.apiKey)])) {
      out = out.split(form).join(REDACTED);
    }
    return out;
  }
}

const RESPONSE_FIX =
  'the server must answer {"data": [{"index": i, "embedding": [...]}, ...]} with one embedding per input text; ' +
  "check that it is OpenAI-compatible";

/**
 * Parses repeated `NAME=SERVER_MODEL` option values (panic-tda model name,
 * then the name the server knows it by).
 */
export function parseModelMappings(values: readonly string[]): Map<string, string> {
  const mappings = new Map<string, string>();
  for (const value of values) {
    const eq = value.indexOf("=");
    const name = eq < 0 ? "" : value.slice(0, eq).trim();
    const serverModel = eq < 0 ? "" : value.slice(eq + 1).trim();
    if (eq < 0 || name === "" || serverModel === "") {
      const problem = eq < 0 ? 'has no "="' : name === "" ? "has no model name before the =" : "has no server model after the =";
      throw usageError(
        `model mapping ${preview(value, 60)} ${problem}: write NAME=SERVER_MODEL, e.g. nomic-embed-text=nomic-embed-text:v1.5`,
      );
    }
    const prior = mappings.get(name);
    if (prior !== undefined && prior !== serverModel) {
      throw usageError(
        `model ${JSON.stringify(name)} is mapped to both ${JSON.stringify(prior)} and ${JSON.stringify(serverModel)}: keep one mapping`,
      );
    }
    mappings.set(name, serverModel);
  }
  return mappings;
}

// ---------------------------------------------------------------------------
// Options

interface BaseUrl {
  origin: string;
  /** Without trailing slashes; "" for the root. */
  path: string;
  search: string;
}

function parseBaseUrl(baseUrl: string): BaseUrl {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw usageError(`embedding server URL ${preview(baseUrl, 60)} is not a URL: pass the API base, e.g. http://localhost:11434/v1`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`embedding server URL ${preview(baseUrl, 60)} is not http or https: pass the API base, e.g. http://localhost:11434/v1`);
  }
  // fetch refuses such URLs, and the source string would carry the password into the cache.
  if (url.username !== "" || url.password !== "") {
    throw usageError("embedding server URL has a user name or password in it: remove it and pass the key as the API key instead");
  }
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, ""), search: url.search };
}

function checkApiKey(apiKey: string | undefined): string | undefined {
  // A key read from a file usually ends in a newline; an empty one (unset variable) means none.
  const key = apiKey?.trim();
  if (key === undefined || key === "") return undefined;
  // fetch would reject the header with the key quoted in its error.
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw usageError("The embedding server API key has a space, control or non-ASCII character in it; check the key.");
  }
  return key;
}

// ---------------------------------------------------------------------------
// Reading what the server said

/** Seconds or an HTTP date, capped; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value.trim());
  let ms: number;
  if (Number.isFinite(seconds)) {
    ms = seconds * 1000;
  } else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = date - Date.now();
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_DELAY_MS);
}

/**
 * The message of an error body: OpenAI's `{"error": {"message"}}`, ollama's
 * and TEI's `{"error": "..."}`, vLLM's `{"message"}`, else the body itself.
 */
function serverMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === "object") {
      const record = parsed as Record<string, unknown>;
      const error = record["error"];
      if (typeof error === "string" && error !== "") return error;
      if (error !== null && typeof error === "object") {
        const message = (error as Record<string, unknown>)["message"];
        if (typeof message === "string" && message !== "") return message;
      }
      if (typeof record["message"] === "string" && record["message"] !== "") return record["message"];
    }
  } catch {
    // Not JSON: quote it as it is.
  }
  return body.trim();
}

function fixForStatus(status: number, context: BatchContext): string {
  if (status === 401 || status === 403) return "check the API key and that it may use this model";
  if (status === 404) {
    return (
      "check that the base URL is the API root (e.g. http://localhost:11434/v1) " +
      `and that the server has model ${JSON.stringify(context.serverModel)}`
    );
  }
  return (
    `check that the server serves model ${JSON.stringify(context.serverModel)} and accepts these texts ` +
    "(map a panic-tda model to the server's name with NAME=SERVER_MODEL)"
  );
}

/** The most specific reason a fetch failed: undici hides it in `cause`, sometimes in an AggregateError. */
function networkReason(err: unknown): string {
  let reason: unknown = err;
  while (reason instanceof Error && reason.cause !== undefined) reason = reason.cause;
  if (reason instanceof AggregateError && reason.errors.length > 0) reason = reason.errors[0];
  const code = (reason as NodeJS.ErrnoException | undefined)?.code;
  const text = reason instanceof Error ? reason.message : String(reason);
  const line = oneLine(text);
  if (code === "ECONNREFUSED") return `connection refused: ${line || code}`;
  if (code === "ECONNRESET") return `connection reset: ${line || code}`;
  if (line === "") return code ?? "unknown network error";
  return code === undefined || line.includes(code) ? line : `${code}: ${line}`;
}

