// The job summary's escaping: data (keys, messages, table names, paths) is shown as text, never as HTML or Markdown.
import { describe, expect, it } from "vitest";
import { buildSummary, cell, code } from "../../src/action/summary.js";
import { tableMessage } from "../../src/present/names.js";
import type { TableReport } from "../../src/engine/steps/copy-report.js";

function report(failures: { partitionKey: string; rowKey: string; message: string }[]): TableReport {
  return {
    result: {
      source: "orders",
      destination: "orders",
      read: failures.length,
      written: 0,
      skipped: 0,
      failed: failures.length,
      conflicts: 0,
      transactions: 0,
      durationMs: 10,
      failures,
      conflictDetails: [],
      throttled: 0,
      retries: 0,
    },
  };
}

describe("summary cells", () => {
  it("escape HTML, backticks and ampersands as entities", () => {
    expect(cell("<img src=x onerror=alert(1)>")).toBe("&lt;img src=x onerror=alert(1)&gt;");
    expect(cell("a & b")).toBe("a &amp; b");
    expect(cell("`code`")).toBe("&#96;code&#96;");
    expect(cell("&lt;")).toBe("&amp;lt;");
  });

  it("escape inline Markdown and the cell separator, and keep the row on one line", () => {
    expect(cell("*bold* _em_ ~~s~~")).toBe("\\*bold\\* \\_em\\_ \\~\\~s\\~\\~");
    expect(cell("![i](http://x) [l](u)")).toBe("!\\[i\\](http://x) \\[l\\](u)");
    expect(cell("a|b")).toBe("a\\|b");
    expect(cell("back\\slash")).toBe("back\\\\slash");
    expect(cell("one\ntwo\r\nthree\rfour")).toBe("one two three four");
  });

  it("escape block Markdown where the text begins", () => {
    expect(cell("# heading")).toBe("\\# heading");
    expect(cell("- item")).toBe("\\- item");
    expect(cell("+ item")).toBe("\\+ item");
    expect(cell("=== ")).toBe("\\=== ");
    expect(cell("1. first")).toBe("1\\. first");
    expect(cell("> quote")).toBe("&gt; quote");
    // Not where they are ordinary text.
    expect(cell("a-b 1.5 c#")).toBe("a-b 1.5 c#");
    expect(cell(42)).toBe("42");
    expect(cell(undefined)).toBe("");
  });

  it("code spans hold any text literally", () => {
    expect(code("/tmp/report.json")).toBe("`/tmp/report.json`");
    expect(code("/tmp/a`b.json")).toBe("``/tmp/a`b.json``");
    expect(code("`x")).toBe("`` `x ``");
  });

  it("a table's error names the table once", () => {
    expect(tableMessage("t1", "Table t1 does not exist on the source.")).toBe(
      "Table t1 does not exist on the source.",
    );
    expect(tableMessage("t1", "Table t1: a backfill cannot read from Cosmos DB for Table")).toBe(
      "Table t1: a backfill cannot read from Cosmos DB for Table",
    );
    expect(tableMessage("t1", "HTTP 500")).toBe("Table t1: HTTP 500");
    // Another table whose name merely begins the same way is not taken for this one.
    expect(tableMessage("t1", "Table t10 is busy")).toBe("Table t1: Table t10 is busy");
    const failed = report([]);
    failed.result.error = "Table orders: a backfill cannot read from Cosmos DB for Table";
    const md = buildSummary({ mode: "backfill", dryRun: false, notices: [], tables: [failed] });
    expect(md).toContain("- **orders**: a backfill cannot read from Cosmos DB for Table");
  });

  it("a failure row escapes its keys and gives the reason without the entity's name", () => {
    const md = buildSummary({
      mode: "full-sync",
      dryRun: false,
      notices: ["# not a heading <b>"],
      tables: [
        report([
          {
            partitionKey: "<img src=x>",
            rowKey: "`r`",
            message: "Table orders, PartitionKey '<img src=x>', RowKey '`r`': property 'id' is reserved",
          },
        ]),
      ],
    });
    expect(md).toContain("| orders | &lt;img src=x&gt; | &#96;r&#96; | property 'id' is reserved |");
    expect(md).toContain("> \\# not a heading &lt;b&gt;");
    expect(md).not.toContain("<img");
  });
});
