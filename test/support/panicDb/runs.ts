/**
 * The plan of runs and invocations. Everything but vectors is decided before
 * inserting, so that embedding rows can be inserted in any order with the
 * same content. Draws from the shared `ids` and `misc` streams happen in a
 * fixed order (runs, then invocations in run order): moving one changes every
 * database.
 */
import { BASE_MICROS } from "./encodings.js";
import { Rng } from "./rng.js";
import type { Settings } from "./settings.js";

export interface RunPlan {
  index: number;
  id: string;
  prompt: string;
  network: string[];
  seed: number;
  length: number;
  experimentId: string | null;
  /** Last TEXT step's vectors are not written yet (a running experiment). */
  nullTail: boolean;
  unicodeTexts: boolean;
  tags: string[];
}

export interface InvocationPlan {
  id: string;
  run: RunPlan;
  seq: number;
  type: "TEXT" | "IMAGE";
  text: string | null;
  startedMicros: number;
  completedMicros: number;
}

const UNICODE_PROMPT = "Café crème à Zürich, 東京の夜景 🐉🌸 naïve";
// Over 100 code points with astral characters around the cut, so UTF-16 units ≠ code points.
const LONG_PROMPT =
  "An extraordinarily detailed panorama of a medieval market square at dawn, merchants arriving 🐴🐴🐴🐴 with carts of apples, pears and 🍐 cheese, while pigeons scatter";
const UNICODE_SUFFIXES = ["café", "東京タワー", "Ærøskøbing", "😀 emoji", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "naïve résumé"];

/** The ordinary runs (the last `unfinished` of them cut short), then the edge-case runs. */
export function planRuns(s: Settings, experimentId: string, ids: Rng): RunPlan[] {
  const runs: RunPlan[] = [];
  const addRun = (prompt: string, network: string[], extra: Partial<RunPlan> = {}): void => {
    const index = runs.length;
    runs.push({
      index,
      id: ids.hex32(),
      prompt,
      network,
      seed: index % 5 === 4 ? -1 : index, // upstream uses -1 for "random seed"
      length: s.steps,
      experimentId,
      nullTail: false,
      unicodeTexts: false,
      tags: [],
      ...extra,
    });
  };
  for (let r = 0; r < s.runsWanted; r++) {
    const early = r >= s.runsWanted - s.unfinished;
    addRun(s.prompts[r % s.prompts.length] ?? "", s.networks[r % s.networks.length] ?? [], early ? { length: Math.max(2, Math.floor(s.steps * 0.6)), nullTail: true } : {});
  }
  if (s.edge) {
    const net = (i: number): string[] => s.networks[i % s.networks.length] ?? [];
    addRun("yeah", net(0), { tags: ["excludedPrompt"] });
    addRun("nah", net(1), { tags: ["excludedPrompt"] });
    addRun("", net(0), { tags: ["emptyPrompt"] });
    addRun(UNICODE_PROMPT, net(1), { unicodeTexts: true, tags: ["unicode"] });
    addRun(LONG_PROMPT, net(0), { tags: ["longPrompt", "unicode"] });
    addRun(s.prompts[0] ?? "", net(1), { experimentId: null, tags: ["nullExperiment"] });
    addRun(s.prompts[1 % s.prompts.length] ?? "", net(0), { length: Math.max(3, s.steps - 3), nullTail: true, tags: ["unfinishedRun"] });
  }
  return runs;
}

/** The ordinary runs that run to the end (edge-case runs come after the ordinary ones). */
export function finishedOrdinaryRuns(s: Settings, runs: readonly RunPlan[]): RunPlan[] {
  return runs.slice(0, s.runsWanted).filter((r) => !r.nullTail);
}

/** Every run's invocations, alternating IMAGE and TEXT; texts are generated here, in run order. */
export function planInvocations(s: Settings, runs: readonly RunPlan[], ids: Rng, misc: Rng): InvocationPlan[] {
  const invocations: InvocationPlan[] = [];
  for (const run of runs) {
    const textRng = new Rng(s.seed, 1000 + run.index);
    let previousText = run.prompt;
    let t = BASE_MICROS + run.index * 3_600_000_000;
    for (let seq = 0; seq < run.length; seq++) {
      const type = seq % 2 === 0 ? "IMAGE" : "TEXT";
      let text: string | null = null;
      if (type === "TEXT") {
        const model = run.network[seq % run.network.length] ?? "";
        text = s.textFor({ runIndex: run.index, sequenceNumber: seq, initialPrompt: run.prompt, previousText, model, rng: textRng });
        previousText = text;
        if (run.unicodeTexts) text += ` — ${textRng.pick(UNICODE_SUFFIXES)}`;
      }
      const started = t + misc.int(1_000_000);
      const completed = started + 500_000 + misc.int(2_500_000);
      t = completed + 1_000_000;
      invocations.push({ id: ids.hex32(), run, seq, type, text, startedMicros: started, completedMicros: completed });
    }
  }
  return invocations;
}

/** The model that produced invocation `seq` of a run: the network's models in turn. */
export function modelOf(inv: InvocationPlan): string {
  return inv.run.network[inv.seq % inv.run.network.length] ?? "";
}
