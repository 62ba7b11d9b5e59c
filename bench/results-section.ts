// bench/RESULTS.md holds several benches' figures: bench.ts rewrites its Azurite part at the top, the matrix
// (matrix.ts) owns the part between its two markers, and notes on earlier measurements follow it. Each keeps
// the others' parts.
import { existsSync, readFileSync } from "node:fs";

export const MATRIX_START = "<!-- matrix:start -->";
export const MATRIX_END = "<!-- matrix:end -->";

/** The matrix's part of `text`, markers included, or undefined. */
export function matrixSection(text: string): string | undefined {
  const start = text.indexOf(MATRIX_START);
  const end = text.indexOf(MATRIX_END, start);
  if (start < 0 || end < 0) return undefined;
  return text.slice(start, end + MATRIX_END.length);
}

/** `text` with its matrix part replaced by `section` (markers included), or `section` appended. */
export function withSection(text: string, section: string): string {
  const old = matrixSection(text);
  if (old !== undefined) return text.replace(old, () => section);
  return `${text.replace(/\s*$/, "")}\n\n${section}\n`;
}

/**
 * What bench.ts writes: its new text, then everything the file at `path` holds from the matrix's start marker
 * on: the matrix and the notes on earlier measurements after it.
 */
export function keepMatrixSection(path: string, text: string): string {
  if (!existsSync(path)) return text;
  const old = readFileSync(path, "utf8");
  const start = old.indexOf(MATRIX_START);
  if (start < 0 || matrixSection(text) !== undefined) return text;
  return `${text.replace(/\s*$/, "")}\n\n${old.slice(start)}`;
}
