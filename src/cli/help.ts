// `table-sync --help` and `table-sync <command> --help`: one list of options, each tagged with the commands
// that take it (the same table args.ts checks), so a command's help shows exactly what it accepts.
import { MODES, type Mode } from "../config/schema.js";

/** Which commands take a flag; a flag not listed here applies to every command. */
export const COMMANDS_OF: Readonly<Record<string, readonly Mode[]>> = {
  "write-mode": ["full-sync", "backfill", "switch"],
  "query-filter": ["full-sync", "backfill", "switch"],
  since: ["backfill"],
  "overlap-seconds": ["backfill", "switch"],
  "checkpoint-seconds": ["full-sync"],
  concurrency: ["full-sync", "backfill", "verify", "switch"],
  "max-entities-per-second": ["full-sync", "backfill", "verify", "switch"],
  "dry-run": ["full-sync", "backfill"],
  "create-tables": ["full-sync", "backfill", "switch"],
  sample: ["verify", "switch"],
  repair: ["verify"],
  "delete-extra": ["verify"],
  "fail-on-difference": ["verify"],
  "report-path": ["verify", "switch", "preflight"],
  conflict: ["full-sync", "backfill", "verify", "switch"],
  shard: ["full-sync", "backfill"],
  "read-ranges": ["full-sync", "backfill"],
  "state-file": ["full-sync", "backfill", "verify", "switch", "preflight", "status"],
  "ru-per-second": ["preflight"],
  "property-renames": ["full-sync", "backfill", "verify", "switch", "preflight"],
  "destination-connection-string": ["full-sync", "backfill", "verify", "switch", "preflight"],
  "destination-endpoint": ["full-sync", "backfill", "verify", "switch", "preflight"],
  "destination-kind": ["full-sync", "backfill", "verify", "switch", "preflight"],
  "max-failures-reported": ["full-sync", "backfill", "verify", "switch", "preflight"],
};

export function appliesTo(flag: string, command: Mode): boolean {
  const commands = COMMANDS_OF[flag];
  return commands === undefined || commands.includes(command);
}

/** "verify", "verify and switch", "full-sync, backfill and switch". */
export function commandList(commands: readonly string[]): string {
  return commands.length <= 1
    ? commands.join("")
    : `${commands.slice(0, -1).join(", ")} and ${commands[commands.length - 1]}`;
}

interface OptionDoc {
  /** What the help shows on the left, e.g. `--tables <list>`. */
  usage: string;
  /** The explanation, one entry per printed line. */
  text: string[];
  /** The flags it describes (for which commands it is shown). */
  flags: string[];
}

interface Group {
  title: string;
  options: OptionDoc[];
}

const GROUPS: Group[] = [
  {
    title: "Connections (for each side give a connection string OR an endpoint)",
    options: [
      {
        usage: "--source-connection-string <cs>",
        text: ["Account key or SAS connection string, or UseDevelopmentStorage=true."],
        flags: ["source-connection-string"],
      },
      {
        usage: "--destination-connection-string <cs>",
        text: [
          "Prefer the environment variables SOURCE_CONNECTION_STRING and",
          "DESTINATION_CONNECTION_STRING, or a .env file in the current",
          "directory, to keep secrets out of shell history.",
          "Flags win over the environment, the environment over .env.",
        ],
        flags: ["destination-connection-string"],
      },
      {
        usage: "--source-endpoint <url>",
        text: ["e.g. https://acct.table.core.windows.net — signs in with Entra ID"],
        flags: ["source-endpoint"],
      },
      {
        usage: "--destination-endpoint <url>",
        text: [
          "(DefaultAzureCredential: Azure CLI login, managed identity,",
          "workload identity, AZURE_* environment variables).",
        ],
        flags: ["destination-endpoint"],
      },
      {
        usage: "--client-id <id>, --tenant-id <id>",
        text: ["With an endpoint: pick the identity DefaultAzureCredential uses."],
        flags: ["client-id", "tenant-id"],
      },
      {
        usage: "--source-kind auto|table|cosmos",
        text: ["Service type (default auto: *.table.cosmos.azure.com is cosmos)."],
        flags: ["source-kind"],
      },
      { usage: "--destination-kind auto|table|cosmos", text: [], flags: ["destination-kind"] },
    ],
  },
  {
    title: "What to copy",
    options: [
      {
        usage: "--tables <list>",
        text: ["Comma-separated; 'name' or 'source:destination', e.g. orders,users:users2."],
        flags: ["tables"],
      },
      {
        usage: "--since <time>",
        text: [
          "backfill: ISO-8601 UTC, e.g. 2024-05-01T12:00:00Z. Use the source clock",
          "a previous run reported (the summary prints the next --since).",
        ],
        flags: ["since"],
      },
      {
        usage: "--query-filter <odata>",
        text: ["An extra OData filter for every table, ANDed with --since."],
        flags: ["query-filter"],
      },
      {
        usage: "--property-renames <list>",
        text: ["from:to pairs, e.g. id:entityId (Cosmos reserves id, etag, rid, ResourceId)."],
        flags: ["property-renames"],
      },
    ],
  },
  {
    title: "How to write",
    options: [
      {
        usage: "--write-mode replace|merge|insert",
        text: ["Default replace (upsert). insert skips entities that exist."],
        flags: ["write-mode"],
      },
      {
        usage: "--concurrency auto|<n>",
        text: [
          "Requests in flight to the destination. auto (default) grows the window while",
          "that speeds the copy up; a number (1–2048) caps it. Fewer while the",
          "destination throttles (429) or is busy (503), then more again.",
        ],
        flags: ["concurrency"],
      },
      {
        usage: "--max-entities-per-second <n>",
        text: ["Never write more entities per second than this (default: no cap)."],
        flags: ["max-entities-per-second"],
      },
      {
        usage: "--no-create-tables",
        text: ["Do not create missing destination tables (same: --create-tables false)."],
        flags: ["create-tables"],
      },
      { usage: "--dry-run", text: ["Read and count only; write nothing."], flags: ["dry-run"] },
      {
        usage: "--max-failures-reported <n>",
        text: ["Failed entities listed per table (default 50; all are counted)."],
        flags: ["max-failures-reported"],
      },
      {
        usage: "--conflict skip|source-wins",
        text: ["After the switch: keep the app's write (default) or overwrite it."],
        flags: ["conflict"],
      },
    ],
  },
  {
    title: "Verify and switch",
    options: [
      {
        usage: "--sample <fraction>",
        text: ["Check this fraction of the source entities (default 1: all of them)."],
        flags: ["sample"],
      },
      {
        usage: "--repair",
        text: ["verify: copy missing and different entities from the source."],
        flags: ["repair"],
      },
      {
        usage: "--delete-extra",
        text: [
          "verify --repair: delete destination entities the source no longer has",
          "(refused once a switch is recorded).",
        ],
        flags: ["delete-extra"],
      },
      {
        usage: "--no-fail-on-difference",
        text: ["verify: exit 0 even when the tables differ."],
        flags: ["fail-on-difference"],
      },
      {
        usage: "--report-path <path>",
        text: [
          "Where the JSON report goes (default ./table-sync-report.json; missing",
          "directories are created). Checked before the run starts.",
        ],
        flags: ["report-path"],
      },
    ],
  },
  {
    title: "Scale out",
    options: [
      {
        usage: "--shard <i/n>",
        text: [
          "full-sync/backfill: copy the i-th of n partition-key ranges of each table",
          "(run n of these at once, sharing one --state-file).",
        ],
        flags: ["shard"],
      },
      {
        usage: "--read-ranges <k>",
        text: [
          "Read each table through k key ranges at once (default 1), sharing",
          "--concurrency; worth it when reading the source is the bottleneck.",
        ],
        flags: ["read-ranges"],
      },
      {
        usage: "--ru-per-second <n>",
        text: [
          "preflight, Cosmos destination: the RU/s its estimate of the full sync's",
          "time assumes (default 10000).",
        ],
        flags: ["ru-per-second"],
      },
    ],
  },
  {
    title: "State and output",
    options: [
      {
        usage: "--state-file <path>",
        text: [
          "The state as a JSON file: watermarks (full-sync records, backfill reads),",
          "checkpoints, and switched-at (switch records it; later copies respect it).",
        ],
        flags: ["state-file"],
      },
      {
        usage: "--overlap-seconds <s>",
        text: ["How far before a stored watermark a backfill re-reads (default 120)."],
        flags: ["overlap-seconds"],
      },
      {
        usage: "--checkpoint-seconds <s>",
        text: [
          "full-sync with --state-file: save a resume point as it moves, at most",
          "every s seconds (default 60), and on Ctrl+C/SIGTERM; the next full-sync",
          "resumes from it, repeating about s seconds of work.",
        ],
        flags: ["checkpoint-seconds"],
      },
      {
        usage: "--progress-seconds <s>",
        text: ["Seconds between progress lines on stderr (default 5; 0 turns them off)."],
        flags: ["progress-seconds"],
      },
      {
        usage: "--json",
        text: ["Print the result as JSON on stdout (the summary then goes to stderr)."],
        flags: ["json"],
      },
      {
        usage: "-h, --help",
        text: ["Show this help ('table-sync <command> --help': that command's options)."],
        flags: ["help"],
      },
      { usage: "--version", text: ["Print the version of table-sync."], flags: ["version"] },
    ],
  },
];

const USAGE: Record<Mode, string> = {
  "full-sync": "table-sync full-sync --tables <list> [--state-file <path>] [options]",
  backfill: "table-sync backfill  --tables <list> (--state-file <path> | --since <ISO-8601 UTC>) [options]",
  verify: "table-sync verify    --tables <list> [--sample 0.01] [--repair [--delete-extra]] [options]",
  switch: "table-sync switch    --tables <list> --state-file <path> [--sample 0.01] [options]",
  preflight: "table-sync preflight --tables <list> [--destination-kind cosmos] [--property-renames …]",
  status: "table-sync status    --state-file <path> [--tables <list>] [--source-connection-string <cs>]",
};

const ABOUT: Record<Mode, string[]> = {
  "full-sync": ["Copy every entity of each table (step 1 of a migration); records a watermark per table."],
  backfill: [
    "Copy only entities inserted or changed since the watermark (or --since), less the overlap:",
    "Timestamp ge datetime'…' (steps 2 and 4: repeat until the switch, and once more after it).",
    "After a recorded switch it never overwrites what the app wrote on the destination.",
  ],
  verify: ["Compare every entity (or a --sample) of source and destination: missing, extra, different."],
  switch: ["A final backfill, a verify, then records switched-at (destination clock) in the state."],
  preflight: [
    "Read the source only: sizes, partition profile, reserved names, keys Cosmos refuses, estimates of",
    "time and (Cosmos) request units; with --state-file it keeps each table's size for the full sync's ETA.",
  ],
  status: [
    "Where the migration stands, per table, from the state (writes nothing): phase, entities copied,",
    "checkpoint, watermark, lag now (with the source: on its clock), the last backfills as a sparkline,",
    "switched-at, and what to run next. Exits 1 when there is no state.",
  ],
};

const EXIT_STATUS = `Exit status:
  0    every entity of every table was copied (verify: in sync; switch: ready; preflight: nothing
       blocks a full sync; status: the state was read).
  1    an entity or a table failed, the check did not pass, the report could not be written, or
       (status) there is no state.
  2    a usage or configuration error (nothing was read or written).
  130  cancelled by Ctrl+C (SIGINT: 128 + 2), also when a second Ctrl+C quits at once.
  143  cancelled by SIGTERM (128 + 15), e.g. a CI cancel or time-out.
       A cancelled verify, switch or preflight gives no verdict.`;

const EXAMPLES = `Examples:
  export SOURCE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…'
  export DESTINATION_CONNECTION_STRING='…;TableEndpoint=https://acct.table.cosmos.azure.com:443/;'
  table-sync full-sync --tables orders,users --property-renames id:entityId
  table-sync backfill --tables orders,users --property-renames id:entityId --since 2024-05-01T12:00:00Z`;

function renderGroups(command?: Mode): string {
  const blocks: string[] = [];
  for (const group of GROUPS) {
    const options = group.options.filter(
      (o) => command === undefined || o.flags.some((f) => appliesTo(f, command)),
    );
    if (options.length === 0) continue;
    const width = Math.max(32, ...options.map((o) => o.usage.length + 2));
    const lines = [`${group.title}:`];
    for (const o of options) {
      const [first = "", ...more] = o.text;
      lines.push(`  ${o.usage.padEnd(width)}${first}`.trimEnd());
      for (const line of more) lines.push(`  ${" ".repeat(width)}${line}`);
    }
    blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n");
}

/** `table-sync --help`. */
export function globalHelp(): string {
  const commands = MODES.map((m) =>
    [`  ${m.padEnd(12)}${ABOUT[m][0]}`, ...ABOUT[m].slice(1).map((l) => `  ${" ".repeat(12)}${l}`)].join(
      "\n",
    ),
  ).join("\n");
  return `table-sync — copy Azure Table Storage tables to Azure Cosmos DB for Table (or another
table account) with exact types, for a zero-downtime migration.

Usage:
${MODES.map((m) => `  ${USAGE[m]}`).join("\n")}
  table-sync <command> --help     The options of one command.
  table-sync --version

Commands:
${commands}

Options (each command takes only the ones its --help lists):

${renderGroups()}

${EXIT_STATUS}

${EXAMPLES}
`;
}

/** `table-sync <command> --help`: its usage and only the options it takes. */
export function commandHelp(command: Mode): string {
  return `Usage: ${USAGE[command].replace(/ {2,}/, " ")}

${ABOUT[command].join("\n")}

${renderGroups(command)}

${EXIT_STATUS}

'table-sync --help' lists every command.
`;
}
