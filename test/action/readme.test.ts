// The README's Troubleshooting table quotes the messages the action prints, so that searching the README for a
// piece of a message from the log finds its row: every quote must occur in the sources, `…` standing for what a
// message fills in (names, figures).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/run-action.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** The sources' text with every `${…}` as `…` and every `"a " +\n "b"` joined, as the messages read at run time. */
function messagesText(): string {
  const out: string[] = [];
  for (const file of sources(join(REPO_ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    let result = "";
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "$" && text[i + 1] === "{") {
        let depth = 0;
        let j = i + 1;
        for (; j < text.length; j++) {
          if (text[j] === "{") depth++;
          else if (text[j] === "}" && --depth === 0) break;
        }
        result += "…";
        i = j;
      } else result += text[i];
    }
    out.push(result.replace(/…+/g, "…").replace(/["`]\s*\+\s*["`]/g, ""));
  }
  return out.join("\n");
}

/** The code spans of the Troubleshooting table's first column. */
function troubleshootingQuotes(): string[] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Troubleshooting"));
  const rows = section
    .slice(0, section.indexOf("\n## ", 3))
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| symptom") && !l.startsWith("| ---"));
  return rows.flatMap((row) => [...row.split(" | ")[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

describe("README troubleshooting", () => {
  const text = messagesText();
  const quotes = troubleshootingQuotes();

  it("has rows with quotes", () => {
    expect(quotes.length).toBeGreaterThanOrEqual(10);
  });

  it.each(quotes)("quotes a real message: %s", (quote) => {
    // `…` stands for something filled in: any text on the same line of the (joined) sources.
    const pattern = quote
      .split("…")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^\\n]*?");
    expect(new RegExp(pattern).test(text), `not in src/: ${quote}`).toBe(true);
  });

  it("names the real message for a backfill without a watermark", () => {
    expect(quotes.some((q) => q.startsWith("No watermark is stored for table"))).toBe(true);
    expect(quotes.join("\n")).not.toContain("Backfill has no watermark");
  });
});
