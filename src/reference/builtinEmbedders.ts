/**
 * The deterministic test embedders of panic-tda (`Dummy`, `Dummy2`, and their
 * 256-dimensional `DummyText`, `DummyText2` twins), reproduced bit for bit so
 * that a database made with them needs no Python to get its reference vectors.
 */
import { MT19937 } from "./mt19937.js";

// Null prototype: "toString", "__proto__" and friends must not look like models.
const DIMENSIONS: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, {
  Dummy: 768,
  Dummy2: 768,
  DummyText: 256,
  DummyText2: 256,
});

export const BUILTIN_DIMENSIONS: Readonly<Record<string, number>> = Object.freeze(DIMENSIONS);

/** Upstream `content[:100]`: Python counts code points, not UTF-16 units. */
const DUMMY2_PREFIX_CODE_POINTS = 100;
const MAX_SEED = 0xffffffff;

export function isBuiltinModel(model: string): boolean {
  return Object.hasOwn(BUILTIN_DIMENSIONS, model);
}

/**
 * The vector panic-tda's `model` gives `text`, or undefined when `model` is not
 * one of the four, or when the seeded models would make numpy raise (a
 * code-point sum above 2^32 - 1 is an invalid `np.random.seed`).
 */
export function builtinEmbedding(model: string, text: string): Float32Array | undefined {
  if (!isBuiltinModel(model)) return undefined;
  const dim = BUILTIN_DIMENSIONS[model]!;
  return model === "Dummy" || model === "DummyText" ? seededVector(text, dim) : codePointVector(text, dim);
}

/** `np.random.seed(sum(ord(c) for c in text)); np.random.rand(dim).astype(np.float32)`. */
function seededVector(text: string, dim: number): Float32Array | undefined {
  // Exact: even a 2^29-unit string of U+10FFFF stays far below 2^53.
  let seed = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    seed += cp;
    i += cp > 0xffff ? 2 : 1;
  }
  if (seed > MAX_SEED) return undefined;
  const rng = new MT19937(seed);
  const out = new Float32Array(dim);
  // Float32Array stores round to nearest, exactly like numpy's astype(float32).
  for (let k = 0; k < dim; k++) out[k] = rng.randomSample();
  return out;
}

/** First 100 code points, each `ord(c) / 255.0` in float64 then rounded to float32; zero-padded. */
function codePointVector(text: string, dim: number): Float32Array {
  const out = new Float32Array(dim);
  const limit = Math.min(DUMMY2_PREFIX_CODE_POINTS, dim);
  let k = 0;
  for (let i = 0; i < text.length && k < limit; k++) {
    const cp = text.codePointAt(i)!;
    out[k] = cp / 255;
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}
