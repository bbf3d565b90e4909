/**
 * Reading what an OpenAI-compatible embedding server answered: the
 * embeddings of a 200 answer, checked one by one, and the useful part of
 * everything else (an error body, Retry-After, why the connection failed).
 * Nothing here throws on the server's account: each check returns the
 * problem, and the client turns it into its one error naming the batch.
 */
import { describeValue, oneLine, preview } from "./messageText.js";

/** What went wrong with an answer, and what the user can do about it. */
interface Problem {
  problem: string;
  fix: string;
}

/** No wait between tries is longer, whatever the server's Retry-After says. */
export const MAX_RETRY_DELAY_MS = 30_000;

export const RESPONSE_FIX =
  'the server must answer {"data": [{"index": i, "embedding": [...]}, ...]} with one embedding per input text; ' +
  "check that it is OpenAI-compatible";

const invalid = (problem: string): Problem => ({ problem, fix: RESPONSE_FIX });

/**
 * The vectors of a 200 answer's `data` for `texts` (the batch's first text
 * being text `offset + 1` of the call), in input order; `known` is the
 * dimension earlier batches of the model had.
 */
export function readEmbeddings(
  data: unknown,
  texts: readonly string[],
  offset: number,
  known: number | undefined,
): Float64Array[] | Problem {
  const n = texts.length;
  if (!Array.isArray(data)) return invalid(`the answer's "data" is ${describeValue(data)}, not an array`);
  if (data.length !== n) return invalid(`the answer has ${data.length} embeddings for ${n} texts`);
  const byIndex = new Array<Float64Array | undefined>(n);
  for (const [position, entry] of (data as unknown[]).entries()) {
    const where = `data[${position}]`;
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      return invalid(`${where} is ${describeValue(entry)}, not an object`);
    }
    const record = entry as Record<string, unknown>;
    const index = record["index"];
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= n) {
      const got = index === undefined ? "has no index" : `has index ${describeValue(index)}`;
      return invalid(`${where} ${got}, not an integer from 0 to ${n - 1}`);
    }
    if (byIndex[index] !== undefined) return invalid(`${where} repeats index ${index}`);
    const vector = decode(record["embedding"], `${where} (index ${index})`);
    if ("problem" in vector) return vector;
    byIndex[index] = vector;
  }

  // Every index is set: n distinct indices in 0..n-1.
  const vectors = byIndex as Float64Array[];
  const expected = known ?? vectors[0]?.length ?? 0;
  const odd = vectors.findIndex((vector) => vector.length !== expected);
  if (odd >= 0) {
    const other = known === undefined ? "the batch's first has" : "earlier batches of this model have";
    return {
      problem:
        `the embedding of text ${offset + odd + 1} ${preview(texts[odd] ?? "", 60)} has dimension ` +
        `${vectors[odd]?.length} but ${other} dimension ${expected}`,
      fix: "check that the server serves one model under this name",
    };
  }
  return vectors;
}

function decode(embedding: unknown, where: string): Float64Array | Problem {
  let values: Float64Array;
  if (typeof embedding === "string") {
    const decoded = decodeBase64(embedding, where);
    if ("problem" in decoded) return decoded;
    values = decoded;
  } else if (Array.isArray(embedding)) {
    values = new Float64Array(embedding.length);
    for (const [i, x] of (embedding as unknown[]).entries()) {
      if (typeof x !== "number") return invalid(`${where} embedding[${i}] is ${describeValue(x)}, not a number`);
      values[i] = x;
    }
  } else {
    const got = embedding === undefined ? "has no embedding" : `has an embedding that is ${describeValue(embedding)}`;
    return invalid(`${where} ${got}, not a base64 string or an array of numbers`);
  }
  if (values.length === 0) return invalid(`${where} has an empty embedding`);
  // JSON turns 1e400 into Infinity; float32 bits can hold NaN and Infinity.
  const bad = values.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) return invalid(`${where} embedding[${bad}] is ${values[bad]}, not a finite number`);
  return values;
}

function decodeBase64(text: string, where: string): Float64Array | Problem {
  // Buffer.from skips characters outside the alphabet; a mangled string must not decode to something.
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return invalid(`${where} embedding is a string but not base64`);
  const bytes = Buffer.from(text, "base64");
  if (bytes.length % 4 !== 0) {
    return invalid(`${where} embedding decodes to ${bytes.length} bytes, not a whole number of float32 values`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}

/** Seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
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
export function serverMessage(body: string): string {
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

/** What to do about an HTTP status that trying again will not change. */
export function fixForStatus(status: number, serverModel: string): string {
  if (status === 401 || status === 403) return "check the API key and that it may use this model";
  if (status === 404) {
    return (
      "check that the base URL is the API root (e.g. http://localhost:11434/v1) " +
      `and that the server has model ${JSON.stringify(serverModel)}`
    );
  }
  return (
    `check that the server serves model ${JSON.stringify(serverModel)} and accepts these texts ` +
    "(map a panic-tda model to the server's name with NAME=SERVER_MODEL)"
  );
}

/** The most specific reason a fetch failed: undici hides it in `cause`, sometimes in an AggregateError. */
export function networkReason(err: unknown): string {
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
