// The shape docs/ARCHITECTURE.md promises, checked on every run: small files, no import cycles, imports
// only from the doors inwards, and an engine that knows nothing of GitHub, the environment or argv.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");
const MAX_LINES = 400;

/**
 * Each room's layer: a module may import from a lower layer (or its own room), never from a higher or an
 * equal one, so no room imports a room that imports it.
 */
const LAYERS: Record<string, number> = {
  "engine/wire": 0,
  state: 0,
  "engine/copy": 1,
  "engine/check": 2,
  config: 3,
  "engine/steps": 4,
  present: 5,
  action: 6,
  cli: 6,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const sources = files(SRC);
/** The rest of the code a next engineer changes: tests, their doubles, the benches, the scripts. */
const others = ["test", "bench", "scripts"].flatMap((d) => files(join(ROOT, d)));
const text = new Map(sources.map((f) => [f, readFileSync(f, "utf8")]));
const rel = (f: string) => relative(SRC, f);

/** The modules a file imports or re-exports from (relative specifiers, type-only ones included). */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const m of text
    .get(file)!
    .matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g)) {
    out.push(resolve(dirname(file), (m[1] ?? m[2]).replace(/\.js$/, ".ts")));
  }
  return out;
}

function roomOf(file: string): string {
  const parts = rel(file).split("/");
  return parts[0] === "engine" ? `engine/${parts[1]}` : parts[0];
}

/** Strongly connected components of more than one module (Tarjan). */
function cycles(): string[][] {
  const graph = new Map(sources.map((f) => [f, importsOf(f).filter((t) => text.has(t))]));
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1) found.push(component);
    }
  };
  for (const f of sources) if (!index.has(f)) visit(f);
  return found;
}

describe("the shape of src/", () => {
  it(`has no file over ${MAX_LINES} lines`, () => {
    const long = sources
      .map((f) => ({ file: rel(f), lines: text.get(f)!.split("\n").length - 1 }))
      .filter((x) => x.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines in test/, bench/ or scripts/ either`, () => {
    const long = others
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, "utf8").split("\n").length - 1 }))
      .filter((x) => x.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles()).toEqual([]);
  });

  it("every module lives in a known room", () => {
    expect(sources.map(rel).filter((f) => !(roomOf(join(SRC, f)) in LAYERS))).toEqual([]);
  });

  it("imports only from the doors inwards (a room never imports a room that imports it)", () => {
    const wrong: string[] = [];
    for (const f of sources) {
      const from = roomOf(f);
      for (const t of importsOf(f)) {
        const to = roomOf(t);
        if (to !== from && LAYERS[to] >= LAYERS[from]) wrong.push(`${rel(f)} → ${rel(t)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the engine, state, config and present know nothing of GitHub, the environment or argv", () => {
    const inner = sources.filter((f) => !["action", "cli"].includes(roomOf(f)));
    const leaks = inner.filter((f) => /process\.(env|argv)\b|["']@actions\//.test(text.get(f)!)).map(rel);
    expect(leaks).toEqual([]);
  });

  it("the doors reach the steps only through engine/steps/index.ts", () => {
    const doors = sources.filter((f) => ["action", "cli", "present"].includes(roomOf(f)));
    const around = doors.flatMap((f) =>
      importsOf(f)
        .filter((t) => roomOf(t) === "engine/steps" && rel(t) !== "engine/steps/index.ts")
        .map((t) => `${rel(f)} → ${rel(t)}`),
    );
    expect(around).toEqual([]);
  });
});
