// README is the front door and the details live in docs/: every relative link between them (files and
// #anchors, as GitHub renders heading anchors) must lead somewhere, so moving a section cannot strand a reader.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const pages = [
  join(root, "README.md"),
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(root, "docs", f)),
];

/** The page's lines with fenced code blanked (links in code are not links), line numbers kept. */
function prose(file: string): string[] {
  let inside = false;
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => {
      if (/^\s*```/.test(line)) {
        inside = !inside;
        return "";
      }
      return inside ? "" : line;
    });
}

/** The anchors GitHub gives a page's headings (duplicates get -1, -2, …), plus explicit <a id>. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(file)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/`/g, "")
      .replace(/[*_]{1,2}([^*_]+)[*_]{1,2}/g, "$1");
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  for (const m of readFileSync(file, "utf8").matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  prose(file).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, (s) => (s.includes("](") ? s : "``"));
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const dest = path ? resolve(dirname(file), decodeURI(path)) : file;
      const where = `${relative(root, file)}:${i + 1}: ${target}`;
      if (!existsSync(dest)) broken.push(`no such file: ${where}`);
      else if (anchor !== undefined) {
        if (statSync(dest).isDirectory() || !dest.endsWith(".md"))
          broken.push(`anchor on a non-page: ${where}`);
        else if (!anchors(dest).has(anchor)) broken.push(`no such anchor: ${where}`);
      }
    }
  });
  return broken;
}

describe("README and docs/", () => {
  it.each(pages.map((p) => [relative(root, p), p]))("%s: every relative link resolves", (_name, page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it("every page in docs/ can be reached from README", () => {
    const reached = new Set([pages[0]]);
    const queue = [pages[0]];
    while (queue.length > 0) {
      const page = queue.shift()!;
      for (const m of prose(page)
        .join("\n")
        .matchAll(/\]\(([^)#\s]+)/g)) {
        if (/^(https?:|mailto:)/.test(m[1])) continue;
        const dest = resolve(dirname(page), decodeURI(m[1]));
        if (pages.includes(dest) && !reached.has(dest)) {
          reached.add(dest);
          queue.push(dest);
        }
      }
    }
    expect(pages.filter((p) => !reached.has(p)).map((p) => relative(root, p))).toEqual([]);
  });

  it("README stays a front door (at most 300 lines)", () => {
    expect(readFileSync(join(root, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(301);
  });
});
