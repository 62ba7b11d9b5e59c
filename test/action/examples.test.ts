// The sample workflows in examples/workflows against the action they use: every input they pass exists in
// action.yml and passes the action's own validation, and the workflows of the one migration they form share one
// state (state-store and state-key), or a backfill after the full sync would find no watermark.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConfig, type RawInputs } from "../../src/config/schema.js";
import { authProblem } from "../../src/action/credentials.js";
import { REPO_ROOT } from "../support/run-action.js";

const EXAMPLES = join(REPO_ROOT, "examples", "workflows");

/** The input names action.yml declares (the keys of its top-level `inputs:` map). */
function actionInputs(): Set<string> {
  const lines = readFileSync(join(REPO_ROOT, "action.yml"), "utf8").split("\n");
  const names = new Set<string>();
  let inside = false;
  for (const line of lines) {
    if (/^\S/.test(line)) inside = line.startsWith("inputs:");
    else if (inside) {
      const m = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
      if (m) names.add(m[1]);
    }
  }
  return names;
}

interface ActionStep {
  file: string;
  line: number;
  with: Record<string, string>;
}

const indentOf = (line: string) => line.length - line.trimStart().length;

/** Every step of the workflow that uses this action, with its `with:` map (scalars only, as the samples write them). */
function actionSteps(file: string): ActionStep[] {
  const lines = readFileSync(join(EXAMPLES, file), "utf8").split("\n");
  const steps: ActionStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const uses = /^(\s*)(- )?uses:\s*\S*\/azure-table-sync@\S+\s*$/.exec(lines[i]);
    if (!uses) continue;
    const stepIndent = uses[1].length + (uses[2] ? 2 : 0);
    const step: ActionStep = { file, line: i + 1, with: {} };
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j];
      if (!l.trim() || l.trim().startsWith("#")) continue;
      if (indentOf(l) < stepIndent || (indentOf(l) === stepIndent - 2 && l.trimStart().startsWith("- ")))
        break;
      if (indentOf(l) === stepIndent && l.trim() === "with:") {
        for (j++; j < lines.length; j++) {
          const w = lines[j];
          if (!w.trim() || w.trim().startsWith("#")) continue;
          if (indentOf(w) <= stepIndent) {
            j--;
            break;
          }
          const m = /^\s*([A-Za-z0-9_-]+):\s*(.*?)\s*$/.exec(w);
          expect(m, `${file}:${j + 1}: not a 'name: value' line`).not.toBeNull();
          let value = m![2].replace(/\s+#.*$/, "");
          expect(value, `${file}:${j + 1}: block scalars are not read here`).not.toMatch(/^[|>]/);
          if (/^".*"$|^'.*'$/.test(value)) value = value.slice(1, -1);
          step.with[m![1]] = value;
        }
      }
    }
    steps.push(step);
    i = j - 1;
  }
  return steps;
}

/** A plausible value for each `${{ … }}` expression, so the action's validation can judge the rest. */
function evaluate(value: string): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    if (expr === "inputs.tables") return "orders,users";
    if (expr === "matrix.shard") return "1";
    if (expr.startsWith("inputs.")) return ""; // an optional dispatch input left empty: the action's default
    if (expr.startsWith("vars.")) return "example";
    if (expr.startsWith("secrets.")) return "ghp_exampletoken";
    throw new Error(`no sample value for \${{ ${expr} }}`);
  });
}

const files = readdirSync(EXAMPLES).filter((f) => /\.ya?ml$/.test(f));
const steps = files.flatMap(actionSteps);

describe("sample workflows", () => {
  it("use the action in every file", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      expect(
        steps.some((s) => s.file === f),
        f,
      ).toBe(true);
    // Every use was read, each with its inputs (at least the mode).
    const uses = files.reduce(
      (n, f) =>
        n + (readFileSync(join(EXAMPLES, f), "utf8").match(/uses:\s*\S*\/azure-table-sync@/g) ?? []).length,
      0,
    );
    expect(steps).toHaveLength(uses);
    expect(uses).toBeGreaterThanOrEqual(files.length);
    for (const s of steps) expect(s.with.mode, `${s.file}:${s.line}`).toMatch(/^[a-z-]+$/);
  });

  it("pass only inputs action.yml declares", () => {
    const declared = actionInputs();
    expect(declared.has("mode")).toBe(true);
    for (const s of steps) {
      for (const name of Object.keys(s.with)) {
        expect(
          declared.has(name),
          `${s.file}:${s.line} passes '${name}', which action.yml does not declare`,
        ).toBe(true);
      }
    }
  });

  it("pass values the action accepts", () => {
    for (const s of steps) {
      const raw = Object.fromEntries(Object.entries(s.with).map(([k, v]) => [k, evaluate(v)])) as RawInputs;
      const where = `${s.file}:${s.line}`;
      let config;
      try {
        config = buildConfig(raw);
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
      const endpoints = !!(config.source.endpoint || config.destination.endpoint);
      expect(authProblem(config.auth, endpoints, { ACTIONS_ID_TOKEN_REQUEST_URL: "https://x" }), where).toBe(
        undefined,
      );
    }
  });

  it("share one state: the same state-store and state-key in every workflow of the migration", () => {
    const stores = new Set(
      steps.map((s) => `${s.with["state-store"] ?? "(default)"} / ${s.with["state-key"] ?? "(default)"}`),
    );
    expect([...stores], steps.map((s) => `${s.file}:${s.line}`).join(", ")).toHaveLength(1);
    // Said explicitly in each, so a reader changing one sees that the others must follow.
    for (const s of steps) {
      expect(s.with["state-store"], `${s.file}:${s.line}`).toBeDefined();
      expect(s.with["state-key"], `${s.file}:${s.line}`).toBeDefined();
    }
  });
});
