import { describe, expect, it } from "vitest";
import { writeUuid } from "../../src/frame/uuidBytes.js";

/** DuckDB's UUID layout back to text, written independently of writeUuid. */
function text(words: Uint32Array, row = 0): string {
  const w = (k: number) => words[row * 4 + k]!.toString(16).padStart(8, "0");
  const top = ((words[row * 4 + 3]! ^ 0x80000000) >>> 0).toString(16).padStart(8, "0");
  const hex = top + w(2) + w(1) + w(0);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe("writeUuid", () => {
  it("takes 32 lowercase hex digits and hyphenated lowercase UUIDs, at any row", () => {
    const words = new Uint32Array(12);
    expect(writeUuid("0123456789abcdef0123456789abcdef", words, 0)).toBe(true);
    expect(writeUuid("ffffffff-0000-8000-7fff-00000000000a", words, 2)).toBe(true);
    expect(text(words, 0)).toBe("01234567-89ab-cdef-0123-456789abcdef");
    expect(text(words, 2)).toBe("ffffffff-0000-8000-7fff-00000000000a");
    expect([...words.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
  });

  it("refuses what DuckDB would not print back the same (the caller keeps it as text)", () => {
    const words = new Uint32Array(4);
    for (const id of ["0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde", "prompt-123", "", "0123456789abcdef0123456789abcdeg", "01234567-89ab-cdef-0123_456789abcdef"]) {
      expect(writeUuid(id, words, 0), id).toBe(false);
    }
  });
});
