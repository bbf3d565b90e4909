import { describe, expect, it } from "vitest";

import { MAX_RETRY_DELAY_MS, networkReason, parseRetryAfter, readEmbeddings, serverMessage } from "../../src/reference/serverReply.js";

function base64Of(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((x, i) => { view.setFloat32(i * 4, x, true); });
  return Buffer.from(view.buffer).toString("base64");
}

describe("readEmbeddings", () => {
  it("orders embeddings by index, whether base64 or arrays", () => {
    const data = [
      { index: 1, embedding: [3, 4] },
      { index: 0, embedding: base64Of([1, 2]) },
    ];
    expect(readEmbeddings(data, ["a", "b"], 0, undefined)).toEqual([new Float64Array([1, 2]), new Float64Array([3, 4])]);
  });

  it("numbers a text of another dimension within the whole call", () => {
    const data = [
      { index: 0, embedding: [1, 2] },
      { index: 1, embedding: [1, 2, 3] },
    ];
    expect(readEmbeddings(data, ["a", "b"], 10, undefined)).toMatchObject({
      problem: 'the embedding of text 12 "b" has dimension 3 but the batch\'s first has dimension 2',
    });
    expect(readEmbeddings([{ index: 0, embedding: [1, 2] }], ["a"], 0, 3)).toMatchObject({
      problem: expect.stringMatching(/earlier batches of this model have dimension 3$/),
    });
  });

  it("reports the first problem in answer order", () => {
    const data = [
      { index: 0, embedding: "not base64!" },
      { index: 0, embedding: [1] },
    ];
    expect(readEmbeddings(data, ["a", "b"], 0, undefined)).toMatchObject({
      problem: "data[0] (index 0) embedding is a string but not base64",
    });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, capped, and ignores what it cannot read", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("-5")).toBe(0);
    expect(parseRetryAfter("86400")).toBe(MAX_RETRY_DELAY_MS);
    expect(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(" ")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe("serverMessage", () => {
  it("finds the message in the usual error shapes", () => {
    expect(serverMessage('{"error": {"message": "bad input"}}')).toBe("bad input");
    expect(serverMessage('{"error": "model not found"}')).toBe("model not found");
    expect(serverMessage('{"message": "too long"}')).toBe("too long");
    expect(serverMessage("  plain text\n")).toBe("plain text");
  });
});

describe("networkReason", () => {
  it("digs the code out of undici's causes", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const err = new TypeError("fetch failed", { cause: new AggregateError([refused]) });
    expect(networkReason(err)).toBe("connection refused: connect ECONNREFUSED 127.0.0.1:9");
  });
});
