/**
 * An Embedder backed by an OpenAI-compatible `POST {base}/embeddings` endpoint
 * (ollama, llama.cpp server, vLLM, text-embeddings-inference, OpenAI itself).
 * The server is someone else's program, so every answer is checked before a
 * vector leaves this file (see serverReply.ts), and the API key is kept out
 * of every message.
 */
import { setTimeout as delay } from "node:timers/promises";

import { PanicDriftError } from "../common/errors.js";
import type { Embedder } from "./embedder.js";
import { describeValue, oneLine, preview } from "./messageText.js";
import { checkNumber } from "./optionChecks.js";
import { checkApiKey, parseBaseUrl } from "./serverOptions.js";
import {
  fixForStatus,
  MAX_RETRY_DELAY_MS,
  networkReason,
  parseRetryAfter,
  readEmbeddings,
  RESPONSE_FIX,
  serverMessage,
} from "./serverReply.js";

export { parseModelMappings } from "./serverOptions.js";

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
  close(_options?: { now?: boolean }): Promise<void> {
    this.closing.abort();
    return Promise.resolve();
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

    const timeout = AbortSignal.timeout(this.timeoutMs);
    // Each such signal stays linked to `closing` while the embedder lives
    // (nodejs/node#64476): one small object per request of a run.
    const signal = AbortSignal.any([this.closing.signal, timeout]);
    let status: number;
    let retryAfter: string | null;
    let text: string;
    try {
      // The timeout covers the body too: a server may send headers and then stall.
      const response = await this.fetch(this.endpoint, { method: "POST", headers, body, signal });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      text = await response.text();
    } catch (err) {
      if (this.closing.signal.aborted) throw this.closedError(context);
      if (timeout.aborted) {
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
    if (status !== 200) {
      throw this.failure(context, `HTTP ${status}${this.quoteServer(text)}`, fixForStatus(status, context.serverModel));
    }

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
    const delayMs = Math.min(this.retryBaseMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
    // Jitter keeps several clients that failed together from retrying together.
    return delayMs + Math.random() * delayMs * 0.1;
  }

  private async wait(ms: number, context: BatchContext): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.closing.signal });
    } catch {
      // Only close() aborts the wait.
      throw this.closedError(context);
    }
  }

  private vectors(context: BatchContext, data: unknown): Float64Array[] {
    const vectors = readEmbeddings(data, context.texts, context.offset, this.dimensions.get(context.model));
    if ("problem" in vectors) throw this.failure(context, vectors.problem, vectors.fix);
    this.dimensions.set(context.model, vectors[0]!.length);
    return vectors;
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
