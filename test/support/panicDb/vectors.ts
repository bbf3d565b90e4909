/**
 * Embedding rows' content: timestamps and vector blob, each row from a random
 * stream of its own (numbered by its place in the unshuffled plan), so that
 * content is the same in any storage order and layout.
 */
import type { EmbeddingPlan } from "./embeddings.js";
import { BASE_MICROS, f32Bytes } from "./encodings.js";
import { UnitReferences } from "./references.js";
import { Rng } from "./rng.js";
import type { EmbeddingModelSpec, PanicDbOptions, VectorContext } from "./types.js";

interface EmbeddingContent {
  started: number;
  completed: number | null;
  blob: Buffer | null;
}

const SMALLEST_SUBNORMAL_F32 = 1.401298464324817e-45;

export class VectorMaker {
  /** One reused buffer per dim: the statement's bind copies it before the next row overwrites it. */
  private readonly buffers = new Map<number, Float32Array>();
  private readonly references = new UnitReferences();
  private readonly streamIndex: Map<EmbeddingPlan, number>;

  constructor(
    private readonly seed: number,
    private readonly steps: number,
    private readonly vectorFor: PanicDbOptions["vectorFor"],
    unshuffled: readonly EmbeddingPlan[],
  ) {
    this.streamIndex = new Map(unshuffled.map((p, i) => [p, i]));
  }

  /** The row's place in the unshuffled plan: its random stream, and a spread for the second generation's insert times. */
  indexOf(p: EmbeddingPlan): number {
    return this.streamIndex.get(p) ?? 0;
  }

  /** The returned blob may share a reused buffer: insert it before asking for the next row. */
  content(p: EmbeddingPlan): EmbeddingContent {
    const rng = new Rng(this.seed, 1_000_000 + this.indexOf(p));
    const started = (p.inv?.completedMicros ?? BASE_MICROS) + 1_000_000 + rng.int(60_000_000);
    const completed = p.kind === "nullVector" ? null : started + 10_000 + rng.int(500_000);
    return { started, completed, blob: this.blob(p, rng) };
  }

  /** Mixes the prompt's reference direction with noise, the mix drifting along the run, so that drifts spread over [0, √2] rather than all sitting at ≈ √2. */
  private defaultVector(model: EmbeddingModelSpec, rng: Rng, ctx: VectorContext): Float32Array {
    let out = this.buffers.get(model.dim);
    if (!out) this.buffers.set(model.dim, (out = new Float32Array(model.dim)));
    const ref = this.references.get(model.name, ctx.initialPrompt);
    const progress = ctx.sequenceNumber / Math.max(1, ctx.maxLength);
    const w = ref ? Math.min(1, Math.max(0.02, 1 - progress + 0.4 * (rng.float() - 0.5))) : 0;
    const scale = w * Math.sqrt(model.dim / 3);
    for (let i = 0; i < out.length; i++) out[i] = (1 - w) * (rng.float() * 2 - 1) + (ref ? scale * (ref[i] ?? 0) : 0);
    return out;
  }

  private blob(p: EmbeddingPlan, rng: Rng): Buffer | null {
    const dim = p.model.dim;
    switch (p.kind) {
      case "nullVector":
        return null;
      case "emptyBlob":
        return Buffer.alloc(0);
      case "zeroVector":
        return Buffer.alloc(dim * 4);
      case "badLength":
        return Buffer.from(Uint8Array.from({ length: dim * 4 - 2 }, () => rng.int(256)));
      case "denormal": {
        // Subnormal float32 values (< 1.18e-38): tiny, but not zero.
        const v = new Float32Array(dim);
        for (let i = 0; i < dim; i++) v[i] = (1 + rng.int(1000)) * SMALLEST_SUBNORMAL_F32 * (rng.float() < 0.5 ? -1 : 1);
        return Buffer.from(f32Bytes(v));
      }
      case "wrongDim": {
        const v = new Float32Array(Math.max(1, Math.floor(dim / 2)));
        for (let i = 0; i < v.length; i++) v[i] = rng.float() * 2 - 1;
        return Buffer.from(f32Bytes(v));
      }
      default:
        return this.modelVector(p, rng);
    }
  }

  /** The model's vector (the caller's `vectorFor`, or the default), with the NaN/Inf edge cases planted on a copy. */
  private modelVector(p: EmbeddingPlan, rng: Rng): Buffer | null {
    const inv = p.inv;
    const ctx: VectorContext = { initialPrompt: inv?.run.prompt ?? "", runIndex: inv?.run.index ?? -1, sequenceNumber: inv?.seq ?? 0, maxLength: inv?.run.length ?? this.steps };
    let v = this.vectorFor ? this.vectorFor(p.model.name, inv?.text ?? "", rng, ctx) : this.defaultVector(p.model, rng, ctx);
    if (v === null) return null;
    if (p.kind === "nanComponent" || p.kind === "infComponent") {
      v = Float32Array.from(v); // never write into the caller's array
      v[rng.int(v.length)] = p.kind === "nanComponent" ? NaN : Infinity;
    }
    return f32Bytes(v);
  }
}
