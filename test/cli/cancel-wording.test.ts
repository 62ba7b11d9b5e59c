// What the CLI says when a run is cancelled or a switch was recorded: the stop words (src/cli/cancel.ts),
// the --conflict line (src/cli/run-copy.ts), and a cancelled check's outcome (src/cli/check-report.ts).
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/schema.js";
import { stopWords } from "../../src/cli/cancel.js";
import { guardLine } from "../../src/cli/run-copy.js";
import type { CheckResult } from "../../src/engine/steps/check-result.js";
import { formatCheck } from "../../src/cli/check-report.js";

describe("cancel wording", () => {
  const config = (over: Record<string, string>) =>
    buildConfig({
      tables: "abc:abc2",
      "source-connection-string": "UseDevelopmentStorage=true",
      "destination-connection-string": "UseDevelopmentStorage=true",
      ...over,
    });
  const store = { load: async () => undefined, save: async () => undefined, describe: () => "x" };

  it("promises a checkpoint only when one can be saved", () => {
    expect(stopWords(config({ mode: "full-sync" }), store).stopping).toContain("saving a checkpoint");
    expect(stopWords(config({ mode: "full-sync" }), store).quit).toBe(
      "Stopped at once; the last saved checkpoint stands.",
    );
    const none = stopWords(config({ mode: "full-sync" }), undefined);
    expect(none.stopping).not.toContain("saving a checkpoint");
    expect(none.stopping).toContain("without --state-file no checkpoint is saved");
    for (const mode of ["verify", "preflight"]) {
      const w = stopWords(config({ mode }), undefined);
      expect(w.stopping).toContain("no verdict");
      expect(w.stopping).not.toContain("checkpoint");
    }
  });

  it("says what --conflict does after a switch", () => {
    expect(guardLine({ switchedAt: "2024-01-01T00:00:00.000Z", policy: "skip" })).toBe(
      "switched at 2024-01-01T00:00:00.000Z: the app's writes on the destination are kept (--conflict skip).",
    );
    const wins = guardLine({ switchedAt: "2024-01-01T00:00:00.000Z", policy: "source-wins" });
    expect(wins).toContain("--conflict source-wins");
    expect(wins).not.toContain("are kept");
  });

  it("a cancelled check shows the tables it finished and no verdict", () => {
    const table = (name: string, error?: string) => ({
      source: name,
      destination: name,
      checked: 2,
      sourceCount: 2,
      destinationCount: 2,
      missing: 0,
      extra: 0,
      different: 0,
      untransformable: 0,
      missingSamples: [],
      extraSamples: [],
      differentSamples: [],
      untransformableSamples: [],
      notes: [],
      inSync: !error,
      sampled: false,
      durationMs: 1,
      ...(error ? { error } : {}),
    });
    const result = {
      mode: "verify",
      verify: [table("done1"), table("cut1", "the run was cancelled")],
      preflight: [],
      inSync: false,
      differences: 0,
      notices: [],
      ok: false,
      failure: "1 of 2 tables could not be verified: the run was cancelled",
      durationMs: 5,
    } as unknown as CheckResult;
    const text = formatCheck(result, "/r.json", { cancelled: true });
    expect(text).toContain("done1");
    expect(text).not.toContain("cut1");
    expect(text).toContain("verify cancelled: no verdict (1 of 2 tables compared before the cancel).");
    expect(text).not.toMatch(/verify: \d+ difference|in sync\.|could not be verified/);
    expect(text).toContain("Report (marked cancelled): /r.json");
    expect(
      formatCheck(
        { ...result, verify: [table("done1")], inSync: true, ok: true, failure: undefined },
        undefined,
      ),
    ).toContain("verify: in sync.\nReport: not written.");
  });
});
