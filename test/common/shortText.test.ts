import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { displayWidth, shortText, shortTexts } from "../../src/common/shortText.js";

/** Labels for legends and table cells: cut at word boundaries, within a width in columns, told apart. */
describe("shortText", () => {
  it("leaves text that fits alone", () => {
    expect(shortText("a cat on a mat", 14)).toBe("a cat on a mat");
  });

  it("cuts after a whole word, without the space or a dangling separator, and marks the cut", () => {
    expect(shortText("a red bicycle leaning against a brick wall", 20)).toBe("a red bicycle…");
    expect(shortText("apples, pears and cheese", 10)).toBe("apples…");
    expect(shortText("SDXLTurbo · Dummy2 · BLIP2", 20)).toBe("SDXLTurbo · Dummy2…");
    expect(shortText("02e45db8-276e-e378-4ca3-41796e9ae48e", 12)).toBe("02e45db8…");
  });

  it("splits a network at its arrows", () => {
    expect(shortText("FluxDev→BLIP2→SDXLTurbo→Moondream", 20)).toBe("FluxDev→BLIP2→…");
  });

  it("cuts inside one long word rather than keep almost nothing", () => {
    expect(shortText("0f3c2a9d5e8b4c7a9d1e2f3a4b5c6d7e", 10)).toBe("0f3c2a9d5…");
  });

  it("counts CJK and emoji as two columns, and cuts Japanese between words", () => {
    expect(displayWidth("東京の夜景")).toBe(10);
    expect(displayWidth("🐉🌸 x")).toBe(6);
    const cut = shortText("夏の海辺で遊ぶ子供たち", 12);
    expect(displayWidth(cut)).toBeLessThanOrEqual(12);
    expect(cut).toMatch(/^夏の海辺で?…$/);
  });

  it("never exceeds the width, and what it keeps is the beginning of the text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), fc.integer({ min: 4, max: 40 }), (text, width) => {
        const short = shortText(text, width);
        expect(displayWidth(short)).toBeLessThanOrEqual(width);
        if (short !== text) expect(text.startsWith(short.slice(0, -1))).toBe(true);
      }),
    );
  });
});

describe("shortTexts", () => {
  it("keeps the ends of texts that share their beginning, as few words as tell them apart", () => {
    const prompts = [2, 10, 14].map((n) => `a cat sitting on a windowsill number ${n}`);
    const short = shortTexts(prompts, 32);
    expect([...short.values()]).toEqual(["a cat sitting on a windowsill…2", "a cat sitting on a windowsill…10", "a cat sitting on a windowsill…14"]);
  });

  it("numbers texts that differ only in the middle", () => {
    const texts = ["same words at the start, then A, then the same words at the end", "same words at the start, then B, then the same words at the end"];
    const short = [...shortTexts(texts, 24).values()];
    expect(new Set(short).size).toBe(2);
    for (const s of short) expect(displayWidth(s)).toBeLessThanOrEqual(24);
  });

  it("always gives distinct short forms within the width", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: fc.constantFrom("a", "b", " ", "東", "🐉", "→"), maxLength: 40 }), { maxLength: 12 }), fc.integer({ min: 8, max: 30 }), (texts, width) => {
        const short = shortTexts(texts, width);
        expect(new Set(short.values()).size).toBe(texts.length);
        for (const s of short.values()) expect(displayWidth(s)).toBeLessThanOrEqual(width);
      }),
    );
  });
});
