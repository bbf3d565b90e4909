/**
 * The (initial_prompt, embedding_model) pairs met so far, each with a small
 * integer key. Sources tag every row with its pair's key, so the kernel looks
 * up a reference by array index instead of hashing two strings per row.
 */
export interface ReferencePair {
  readonly initialPrompt: string;
  readonly embeddingModel: string;
}

export class ReferencePairs {
  private readonly byPrompt = new Map<string, Map<string, number>>();
  private readonly list: ReferencePair[] = [];

  keyFor(initialPrompt: string, embeddingModel: string): number {
    let byModel = this.byPrompt.get(initialPrompt);
    if (byModel === undefined) {
      byModel = new Map();
      this.byPrompt.set(initialPrompt, byModel);
    }
    let key = byModel.get(embeddingModel);
    if (key === undefined) {
      key = this.list.length;
      this.list.push({ initialPrompt, embeddingModel });
      byModel.set(embeddingModel, key);
    }
    return key;
  }

  get size(): number {
    return this.list.length;
  }

  pair(key: number): ReferencePair {
    const pair = this.list[key];
    if (pair === undefined) throw new RangeError(`no reference pair with key ${key}`);
    return pair;
  }
}
