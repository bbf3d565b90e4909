import { describe, expect, it } from "vitest";

import type { Batch } from "../../src/reference/commandReply.js";
import {
  batchWhere,
  checkAnswer,
  exitFix,
  exitProblem,
  requestLine,
  stderrNote,
  unterminatedNote,
} from "../../src/reference/commandReply.js";

const batch = (texts: string[], offset = 0, total = texts.length): Batch => ({ model: "m", texts, offset, total });

describe("requestLine", () => {
  it("is one line of ASCII JSON that parses back to the batch", () => {
    const texts = ["日本 🚀", "a\u2028b\u2029c", "del \u007f", "line\nbreak"];
    const line = requestLine(batch(texts));
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(line)).toEqual({ model: "m", texts });
  });
});

describe("checkAnswer", () => {
  it("turns a well-formed answer into Float64Arrays and reports its dimension", () => {
    const checked = checkAnswer(batch(["a", "b"]), '{"vectors": [[1, 2.5], [3, -4]]}', undefined);
    expect(checked).toEqual({ vectors: [new Float64Array([1, 2.5]), new Float64Array([3, -4])], dimension: 2 });
  });

  it("holds an answer to the dimension earlier answers had", () => {
    const checked = checkAnswer(batch(["a"]), '{"vectors": [[1, 2]]}', 3);
    expect(checked).toMatchObject({ problem: expect.stringMatching(/dimension 2 but earlier answers for this model have dimension 3/) });
  });

  it("tells Python's NaN apart from other text that is not JSON", () => {
    expect(checkAnswer(batch(["a"]), '{"vectors": [[-Infinity]]}', undefined)).toMatchObject({
      problem: expect.stringMatching(/NaN or Infinity/),
    });
    expect(checkAnswer(batch(["a"]), "NaNny says hi", undefined)).toMatchObject({
      problem: expect.stringMatching(/which is not JSON/),
    });
  });
});

describe("messages", () => {
  it("names the batch, with its place in the call when the call was split", () => {
    expect(batchWhere(batch(["first", "x"]))).toBe(' for model "m", texts starting with "first"');
    expect(batchWhere(batch(["third", "x"], 2, 5))).toBe(' for model "m", texts 3-4 of 5, starting with "third"');
  });

  it("describes an exit, naming the signal behind the shell's code 128 + N", () => {
    expect(exitProblem({ code: null, signal: "SIGTERM" })).toBe("it was killed by SIGTERM");
    expect(exitProblem({ code: 137, signal: null })).toBe("it exited with code 137 (killed by SIGKILL)");
    expect(exitProblem({ code: 2, signal: null })).toBe("it exited with code 2");
    expect(exitProblem(undefined)).toBe("it exited");
    expect(exitFix({ code: 127, signal: null })).toMatch(/no such program/);
  });

  it("quotes the last non-blank line of stderr, without terminal escapes", () => {
    expect(stderrNote("loading\r\n\u001b[31merror: out of memory\u001b[0m\n\n  \n")).toBe(
      '; its stderr ends with "error: out of memory"',
    );
    expect(stderrNote(" \n")).toBe("");
  });

  it("mentions what stdout ends with only when it is more than whitespace", () => {
    expect(unterminatedNote('{"vectors": [[1]]}')).toBe(' (its stdout ends with "{\\"vectors\\": [[1]]}" and no newline)');
    expect(unterminatedNote(" \t")).toBe("");
  });
});
