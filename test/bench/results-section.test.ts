// bench/RESULTS.md is written by two benches: bench.ts rewrites the Azurite part at the top and must keep the
// matrix's part and the notes after it; matrix.ts replaces only what is between its markers.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keepMatrixSection, MATRIX_END, MATRIX_START, withSection } from "../../bench/results-section.js";

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "results-")), "RESULTS.md");
  writeFileSync(path, text);
  return path;
};
const existing = `# old Azurite part\n\n${MATRIX_START}\nmatrix v1\n${MATRIX_END}\n\n## Notes on an earlier run\nkept\n`;

describe("bench/RESULTS.md sections", () => {
  it("a rewrite of the Azurite part keeps the matrix and the notes after it", () => {
    const out = keepMatrixSection(file(existing), "# new Azurite part\n");
    expect(out).toBe(
      `# new Azurite part\n\n${MATRIX_START}\nmatrix v1\n${MATRIX_END}\n\n## Notes on an earlier run\nkept\n`,
    );
    expect(out).not.toContain("old Azurite");
  });

  it("a file without a matrix yet gets only the new text", () => {
    expect(keepMatrixSection(file("# old\n"), "# new\n")).toBe("# new\n");
    expect(keepMatrixSection(join(tmpdir(), "no-such-dir-results", "R.md"), "# new\n")).toBe("# new\n");
  });

  it("the matrix replaces only its own part", () => {
    const section = `${MATRIX_START}\nmatrix v2\n${MATRIX_END}`;
    expect(withSection(existing, section)).toBe(existing.replace("matrix v1", "matrix v2"));
    expect(withSection("# top\n", section)).toBe(`# top\n\n${section}\n`);
  });
});
