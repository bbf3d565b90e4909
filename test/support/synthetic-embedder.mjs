#!/usr/bin/env node
// A stand-in for a real embedding model, in plain JavaScript so that tests can
// run it as an --embed-cmd command (`node synthetic-embedder.mjs`) and import
// the same function. Vectors are exactly representable in float32, so that
// JSON numbers, base64 float32 and files all carry the same values.
import { appendFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const SYNTHETIC_DIM = 768;

/** A deterministic vector for (model, text): a seed from the characters, then a float32 sine wave. */
export function syntheticVector(model, text) {
  let seed = 0;
  for (const c of `${model}\u0000${text}`) seed = (seed * 31 + c.codePointAt(0)) % 1000003;
  return Array.from({ length: SYNTHETIC_DIM }, (_, i) => Math.fround(Math.sin(seed + i * 0.37)));
}

// Run as a command: the --embed-cmd protocol; requests logged to $EMBED_LOG when set.
// For the signal trials: $EMBED_DELAY_MS before each answer (a slow model), and
// $EMBED_IGNORE_TERM=1 to ignore SIGTERM (only SIGKILL ends it).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.env.EMBED_IGNORE_TERM === "1") process.on("SIGTERM", () => {});
  const delay = Number(process.env.EMBED_DELAY_MS ?? 0);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (process.env.EMBED_LOG) appendFileSync(process.env.EMBED_LOG, `${line}\n`);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const { model, texts } = JSON.parse(line);
    process.stdout.write(`${JSON.stringify({ vectors: texts.map((t) => syntheticVector(model, t)) })}\n`);
  }
}
