import { describe, expect, it } from "vitest";
import { hyphenateUuid } from "../../src/frame/uuidText.js";

describe("hyphenateUuid", () => {
  it("formats 32 hex characters 8-4-4-4-12", () => {
    expect(hyphenateUuid("0123456789abcdef0123456789abcdef")).toBe("01234567-89ab-cdef-0123-456789abcdef");
  });
  it("passes through ids that are not 32 hex characters", () => {
    expect(hyphenateUuid("01234567-89ab-cdef-0123-456789abcdef")).toBe("01234567-89ab-cdef-0123-456789abcdef");
    expect(hyphenateUuid("prompt-1")).toBe("prompt-1");
    expect(hyphenateUuid("zz23456789abcdef0123456789abcdef")).toBe("zz23456789abcdef0123456789abcdef");
    expect(hyphenateUuid(null)).toBeNull();
  });
});
