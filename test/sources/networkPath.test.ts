import { describe, expect, it } from "vitest";
import { networkPath } from "../../src/sources/networkPath.js";

describe("networkPath", () => {
  it("joins the JSON list with →", () => {
    expect(networkPath('["SDXLTurbo", "Moondream"]')).toBe("SDXLTurbo→Moondream");
    expect(networkPath('["A"]')).toBe("A");
    expect(networkPath("[]")).toBe("");
  });
  it("keeps NULL as null and flags anything else as undefined", () => {
    expect(networkPath(null)).toBeNull();
    expect(networkPath("not json")).toBeUndefined();
    expect(networkPath('{"a": 1}')).toBeUndefined();
    expect(networkPath("[1, 2]")).toBeUndefined();
    expect(networkPath(5)).toBeUndefined();
  });
});
