/**
 * The protocol of the embedding command, apart from the process that speaks
 * it: the request line sent for a batch, the check of the answer line, and
 * the wording of the one error every failure ends in.
 *
 *   → {"model": "<panic-tda model name>", "texts": ["…", …]}
 *   ← {"vectors": [[…], …]}
 */
import { constants } from "node:os";
import { stripVTControlCharacters } from "node:util";

import { PanicDriftError } from "../common/errors.js";
import { firstLine } from "../common/text.js";
import type { ExitStatus } from "./commandProcess.js";
import { describeValue, oneLine, preview } from "./messageText.js";

/** One request: a slice of the texts of one embed() call. */
export interface Batch {
  model: string;
  texts: readonly string[];
  /** Index of the batch's first text within the embed() call. */
  offset: number;
  total: number;
}

type Checked = { vectors: Float64Array[]; dimension: number } | { problem: string; fix: string };

const MAX_QUOTED_CHARS = 200;
export const MAX_TEXT_CHARS = 60;

const ANSWER_FIX =
  'answer each request line with one line {"vectors": [[...], ...]} holding one array of finite numbers per text, ' +
  "in order, and print diagnostics to stderr";

/**
 * One line of ASCII JSON, so that a command whose stdin is not read as UTF-8
 * (a Windows pipe, a C locale) still gets every character.
 */
export function requestLine(batch: Batch): string {
  const json = JSON.stringify({ model: batch.model, texts: batch.texts });
  // Non-ASCII appears only inside strings, where \uXXXX means the same; it
  // also covers U+2028 and U+2029, which some readers take for line ends.
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n";
}

/**
 * The vectors of answer `line` to `batch`, or what is wrong with it; `known`
 * is the dimension earlier answers for the batch's model had.
 */
export function checkAnswer(batch: Batch, line: string, known: number | undefined): Checked {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    // Python's json.dumps writes NaN and Infinity, which JSON does not have.
    if (/(^|[\s,[:])-?(NaN|Infinity)(?=[\s,\]}]|$)/.test(line)) {
      return {
        problem: `it answered NaN or Infinity (${preview(line, MAX_TEXT_CHARS)}), which are not finite numbers`,
        fix: "check the model's output for these texts; every vector must hold finite numbers",
      };
    }
    return { problem: `it answered ${preview(line, MAX_TEXT_CHARS)}, which is not JSON`, fix: ANSWER_FIX };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { problem: `it answered ${describeValue(parsed)}, not a JSON object`, fix: ANSWER_FIX };
  }
  const record = parsed as Record<string, unknown>;
  const answer = record["vectors"];
  if (!Array.isArray(answer)) {
    const error = record["error"];
    const problem =
      typeof error === "string" && error !== ""
        ? `it answered the error ${preview(oneLine(error), MAX_QUOTED_CHARS)}`
        : answer === undefined
          ? `it answered ${preview(line, MAX_TEXT_CHARS)}, which has no "vectors"`
          : `its answer's "vectors" is ${describeValue(answer)}, not an array`;
    return { problem, fix: ANSWER_FIX };
  }
  const { texts } = batch;
  if (answer.length !== texts.length) {
    const got = `${answer.length} vector${answer.length === 1 ? "" : "s"}`;
    return { problem: `it answered ${got} for ${texts.length} text${texts.length === 1 ? "" : "s"}`, fix: ANSWER_FIX };
  }

  const vectors: Float64Array[] = [];
  for (const [i, vector] of (answer as unknown[]).entries()) {
    const where = `vectors[${i}] (for text ${preview(texts[i] ?? "", MAX_TEXT_CHARS)})`;
    if (!Array.isArray(vector)) {
      return { problem: `${where} is ${describeValue(vector)}, not an array of numbers`, fix: ANSWER_FIX };
    }
    if (vector.length === 0) return { problem: `${where} is empty`, fix: ANSWER_FIX };
    const values = new Float64Array(vector.length);
    for (const [j, x] of (vector as unknown[]).entries()) {
      if (typeof x !== "number") {
        return { problem: `${where}[${j}] is ${describeValue(x)}, not a number`, fix: ANSWER_FIX };
      }
      // JSON turns 1e400 into Infinity.
      if (!Number.isFinite(x)) return { problem: `${where}[${j}] is ${x}, not a finite number`, fix: ANSWER_FIX };
      values[j] = x;
    }
    vectors.push(values);
  }

  const dimension = known ?? vectors[0]?.length ?? 0;
  const odd = vectors.findIndex((v) => v.length !== dimension);
  if (odd >= 0) {
    const other = known === undefined ? "vectors[0] has" : "earlier answers for this model have";
    return {
      problem:
        `vectors[${odd}] (for text ${preview(texts[odd] ?? "", MAX_TEXT_CHARS)}) has dimension ` +
        `${vectors[odd]?.length} but ${other} dimension ${dimension}`,
      fix: "every vector of one model must have the same dimension; check that the command serves one model per name",
    };
  }
  return { vectors, dimension };
}

// ---------------------------------------------------------------------------
// Messages

/** ` for model "m", texts starting with "…"` naming the batch of a message. */
export function batchWhere(batch: Batch): string {
  const { model, texts, offset, total } = batch;
  const first = preview(texts[0] ?? "", MAX_TEXT_CHARS);
  const which =
    total === texts.length
      ? `texts starting with ${first}`
      : `texts ${offset + 1}-${offset + texts.length} of ${total}, starting with ${first}`;
  return ` for model ${JSON.stringify(model)}, ${which}`;
}

export function commandFailure(command: string, where: string, problem: string, fix: string, cause?: unknown): PanicDriftError {
  return new PanicDriftError(
    "EMBED_COMMAND_FAILED",
    `embedding command ${preview(command, MAX_QUOTED_CHARS)} failed${where}: ${problem}: ${fix}`,
    cause === undefined ? undefined : { cause },
  );
}

export function exitProblem(status: ExitStatus | undefined): string {
  if (status?.signal) return `it was killed by ${status.signal}`;
  const code = status?.code;
  if (code === null || code === undefined) return "it exited";
  // The shell reports a program killed by signal N as exit code 128 + N.
  const signal = code > 128 ? signalName(code - 128) : undefined;
  return signal === undefined ? `it exited with code ${code}` : `it exited with code ${code} (killed by ${signal})`;
}

export function exitFix(status: ExitStatus | undefined): string {
  const code = status?.code;
  if (code === 127) return "the shell found no such program; check the command's spelling and your PATH";
  if (code === 126) return "the shell could not run the program; check that it is executable";
  if (code === 0) return "the command must answer every request line and exit only when its stdin closes";
  return "run the command by hand with a request line on its stdin to see why it fails";
}

/** What the command printed after its last line end (`rest`), which is never read as an answer. */
export function unterminatedNote(rest: string): string {
  if (rest.trim() === "") return "";
  return ` (its stdout ends with ${preview(rest, MAX_TEXT_CHARS)} and no newline)`;
}

/** The last line of the end of the command's stderr, where its own diagnostics go. */
export function stderrNote(tail: string): string {
  const lines = stripVTControlCharacters(tail)
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const last = lines.at(-1);
  return last === undefined ? "" : `; its stderr ends with ${preview(last, MAX_QUOTED_CHARS)}`;
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? firstLine(err);
}

function signalName(n: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === n)?.[0];
}
