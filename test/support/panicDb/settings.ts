/** The options with their defaults filled in and checked, once, before anything is planned. */
import { endianness } from "node:os";
import { driftingCaption } from "./captions.js";
import { builtinDim } from "./references.js";
import type { EmbeddingModelSpec, PanicDbLayout, PanicDbOptions, TextContext } from "./types.js";

const DEFAULT_PROMPTS = [
  "a red bicycle leaning against a wall",
  "a cat sitting on a windowsill",
  "a lighthouse on a stormy coast",
  "two people sharing an umbrella",
];
const DEFAULT_NETWORKS = [
  ["SDXLTurbo", "Moondream"],
  ["FluxSchnell", "BLIP2"],
];

export interface Settings {
  layout: PanicDbLayout;
  seed: number;
  /** Ordinary runs asked for (edge-case runs come on top). */
  runsWanted: number;
  steps: number;
  models: EmbeddingModelSpec[];
  prompts: string[];
  networks: string[][];
  imageBytes: number;
  edge: boolean;
  unfinished: number;
  shuffle: boolean;
  textFor: (ctx: TextContext) => string;
  vectorFor: PanicDbOptions["vectorFor"];
}

function resolveModels(models: EmbeddingModelSpec[] | undefined): EmbeddingModelSpec[] {
  const list = models ?? [
    { name: "Dummy", dim: 768 },
    { name: "Dummy2", dim: 768 },
  ];
  if (list.length === 0) throw new Error("makePanicDb: embeddingModels must not be empty");
  return list.map((m) => ({ name: m.name, dim: builtinDim(m.name) ?? m.dim }));
}

export function resolveSettings(options: PanicDbOptions): Settings {
  // Typed arrays use host byte order; the format is little-endian.
  if (endianness() !== "LE") throw new Error("makePanicDb: big-endian hosts are not supported");
  const settings: Settings = {
    layout: options.layout ?? "gen1",
    seed: options.seed ?? 1,
    runsWanted: options.runs ?? 4,
    steps: options.steps ?? 10,
    models: resolveModels(options.embeddingModels),
    prompts: options.prompts ?? DEFAULT_PROMPTS,
    networks: options.networks ?? DEFAULT_NETWORKS,
    imageBytes: options.imageBytes ?? 64,
    edge: options.edgeCases ?? false,
    unfinished: options.unfinishedRuns ?? 0,
    shuffle: options.shuffle ?? true,
    textFor: options.textFor ?? driftingCaption,
    vectorFor: options.vectorFor,
  };
  if (settings.prompts.length === 0 || settings.networks.length === 0) throw new Error("makePanicDb: prompts and networks must not be empty");
  if (settings.edge && (settings.steps < 4 || settings.runsWanted < 2)) throw new Error("makePanicDb: edgeCases needs steps >= 4 and runs >= 2");
  return settings;
}
