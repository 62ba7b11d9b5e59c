// Plain-text tables for the terminal: each column as wide as its widest cell, two spaces between columns.

/** The rows of `cells` (the header first) padded into columns; `rightAlign[i]` right-aligns column i. */
export function columns(cells: string[][], rightAlign: boolean[]): string[] {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => [...row[i]].length)));
  return cells.map((row) =>
    row
      .map((c, i) => {
        const fill = " ".repeat(widths[i] - [...c].length);
        return rightAlign[i] ? fill + c : c + fill;
      })
      .join("  ")
      .trimEnd(),
  );
}
