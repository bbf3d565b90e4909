import { readFileSync } from "node:fs";
import { describe, it, expect } from "vitest";
import { BUILTIN_DIMENSIONS, builtinEmbedding, isBuiltinModel } from "../../src/reference/builtinEmbedders.js";

interface EmbeddingFixture {
  /** Index into `texts`. */
  text: number;
  model: string;
  dim: number;
  /** base64 of the little-endian float32 bytes numpy produced. */
  float32le?: string;
  /** Set instead when numpy raised. */
  error?: string;
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/embedder-vectors.json", import.meta.url), "utf8"),
) as { texts: string[]; embeddings: EmbeddingFixture[] };

const MODELS = ["Dummy", "Dummy2", "DummyText", "DummyText2"] as const;

/** Little-endian float32 bytes, whatever the host's byte order. */
function leBytes(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  v.forEach((x, i) => { view.setFloat32(i * 4, x, true); });
  return out;
}

function textOf(e: EmbeddingFixture): string {
  const t = fixture.texts[e.text];
  if (t === undefined) throw new Error(`fixture text ${e.text} missing`);
  return t;
}

function label(e: EmbeddingFixture): string {
  const t = textOf(e);
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- a preview cut at code points, and their count
  const shown = t.length > 24 ? `${[...t].slice(0, 12).join("")}… (${[...t].length} code points)` : t;
  return `${e.model}(${JSON.stringify(shown)})`;
}

describe("builtin embedders, against numpy", () => {
  it("covers every model for every text", () => {
    expect(fixture.embeddings.length).toBe(fixture.texts.length * MODELS.length);
  });

  for (const e of fixture.embeddings) {
    if (e.error !== undefined) {
      it(`${label(e)} is undefined where numpy raised (${e.error})`, () => {
        expect(builtinEmbedding(e.model, textOf(e))).toBeUndefined();
      });
    } else {
      it(`${label(e)} is bit-identical`, () => {
        const got = builtinEmbedding(e.model, textOf(e));
        expect(got).toBeInstanceOf(Float32Array);
        expect(got!.length).toBe(e.dim);
        const want = new Uint8Array(Buffer.from(e.float32le!, "base64"));
        expect(want.length).toBe(e.dim * 4);
        expect(Buffer.from(leBytes(got!)).equals(Buffer.from(want))).toBe(true);
      });
    }
  }
});

describe("builtin embedders", () => {
  it("has the four models and their dimensions", () => {
    expect({ ...BUILTIN_DIMENSIONS }).toEqual({ Dummy: 768, Dummy2: 768, DummyText: 256, DummyText2: 256 });
    for (const m of MODELS) expect(isBuiltinModel(m)).toBe(true);
    for (const e of fixture.embeddings) expect(BUILTIN_DIMENSIONS[e.model]).toBe(e.dim);
  });

  it("knows no other model, including Object.prototype names", () => {
    for (const m of ["", "dummy", "Dummy ", "Nomic", "toString", "__proto__", "constructor", "hasOwnProperty", "valueOf"]) {
      expect(isBuiltinModel(m)).toBe(false);
      expect(builtinEmbedding(m, "a picture of a cat")).toBeUndefined();
      expect(BUILTIN_DIMENSIONS[m]).toBeUndefined();
    }
  });

  it("is undefined for the seeded models once the code-point sum passes 2^32 - 1", () => {
    const text = "\u{10FFFF}".repeat(3856); // 3856 · 0x10FFFF = 4 296 012 016
    expect(3856 * 0x10ffff).toBeGreaterThan(2 ** 32 - 1);
    expect(builtinEmbedding("Dummy", text)).toBeUndefined();
    expect(builtinEmbedding("DummyText", text)).toBeUndefined();
    // The code-point models never seed, so they still answer.
    expect(builtinEmbedding("Dummy2", text)?.length).toBe(768);
    expect(builtinEmbedding("DummyText2", text)?.length).toBe(256);
  });

  it("Dummy2 of the empty string is all zeros", () => {
    for (const m of ["Dummy2", "DummyText2"]) {
      const v = builtinEmbedding(m, "")!;
      expect(v.length).toBe(BUILTIN_DIMENSIONS[m]);
      expect(v.every((x) => Object.is(x, 0))).toBe(true);
    }
  });

  it("Dummy2 counts code points, not UTF-16 units", () => {
    const text = "🐱".repeat(60) + "x".repeat(50);
    const v = builtinEmbedding("Dummy2", text)!;
    expect(v[59]).toBe(Math.fround(0x1f431 / 255));
    expect(v[60]).toBe(Math.fround(0x78 / 255));
    expect(v[99]).toBe(Math.fround(0x78 / 255));
    expect(v.subarray(100).every((x) => x === 0)).toBe(true);
  });

  it("DummyText and DummyText2 are the first 256 components of Dummy and Dummy2", () => {
    for (const text of fixture.texts) {
      for (const [short, long] of [["DummyText", "Dummy"], ["DummyText2", "Dummy2"]] as const) {
        const s = builtinEmbedding(short, text);
        const l = builtinEmbedding(long, text);
        if (l === undefined) {
          expect(s).toBeUndefined();
          continue;
        }
        expect(Buffer.from(leBytes(s!)).equals(Buffer.from(leBytes(l.subarray(0, 256))))).toBe(true);
      }
    }
  });

  it("returns a fresh array each call", () => {
    const a = builtinEmbedding("Dummy", "yeah")!;
    a.fill(7);
    expect(builtinEmbedding("Dummy", "yeah")![0]).not.toBe(7);
  });
});
