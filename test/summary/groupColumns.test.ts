import { describe, expect, it } from "vitest";
import { groupColumns } from "../../src/summary/groupColumns.js";

describe("groupColumns", () => {
  it("reads names and comma-separated lists, in order, without repeats or blanks", () => {
    expect(groupColumns("network,embedding_model")).toEqual(["network", "embedding_model"]);
    expect(groupColumns([" initial_prompt ,network", "initial_prompt,"])).toEqual(["initial_prompt", "network"]);
  });

  it("names the allowed columns when one is unknown (a usage error)", () => {
    expect(() => groupColumns("network,Network")).toThrow(/unknown column 'Network': allowed are id, invocation_id, .*, semantic_drift/);
    expect(() => groupColumns("")).toThrow(expect.objectContaining({ code: "USAGE", exitCode: 2 }));
  });
});
