/**
 * Upstream's test embedders, only to make default vectors correlate with the
 * reference (so drifts vary). Exactness here is not what tests rely on: the
 * Python oracle recomputes references with numpy itself.
 */
import { MT19937 } from "../../../src/reference/mt19937.js";

export const BUILTIN_DIMS: Readonly<Record<string, number>> = {
  Dummy: 768,
  Dummy2: 768,
  DummyText: 256,
  DummyText2: 256,
};

/** Own keys only: a model named "toString" is not built in. */
export function builtinDim(model: string): number | undefined {
  return Object.hasOwn(BUILTIN_DIMS, model) ? BUILTIN_DIMS[model] : undefined;
}

/** Dummy: numpy's legacy MT19937 seeded with the text's code-point sum, one float32 sample per component. */
function dummyVector(text: string, dim: number): Float64Array {
  let seed = 0;
  for (const ch of text) seed += ch.codePointAt(0) ?? 0;
  // `>>> 0` as numpy's seeding wraps; a code-point sum never gets near 2^32 anyway.
  const mt = new MT19937(seed >>> 0);
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) out[i] = Math.fround(mt.randomSample());
  return out;
}

/** Dummy2: the first 100 code points over 255, zero beyond. */
function dummy2Vector(text: string, dim: number): Float64Array {
  const out = new Float64Array(dim);
  let i = 0;
  for (const ch of text) {
    if (i >= 100 || i >= dim) break;
    out[i++] = Math.fround((ch.codePointAt(0) ?? 0) / 255);
  }
  return out;
}

function builtinReference(model: string, text: string): Float64Array | undefined {
  const dim = builtinDim(model);
  if (dim === undefined) return undefined;
  return model === "Dummy" || model === "DummyText" ? dummyVector(text, dim) : dummy2Vector(text, dim);
}

/**
 * The unit-length built-in reference of (model, prompt), or null when the
 * model has none or it is all zero; cached, as every embedding row of a run asks.
 */
export class UnitReferences {
  private readonly cache = new Map<string, Float64Array | null>();

  get(model: string, prompt: string): Float64Array | null {
    const key = `${model}\u0000${prompt}`;
    let ref = this.cache.get(key);
    if (ref === undefined) {
      const raw = builtinReference(model, prompt);
      let norm = 0;
      for (const x of raw ?? []) norm += x * x;
      ref = raw && norm > 0 ? raw.map((x) => x / Math.sqrt(norm)) : null;
      this.cache.set(key, ref);
    }
    return ref;
  }
}
