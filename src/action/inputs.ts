// The action's inputs as strings, each credential masked the moment it is read; a `config-file` (a Data
// Migration Tool settings file) fills in what the inputs leave out and adds its notices.
import * as core from "@actions/core";
import type { RawInputs } from "../config/schema.js";
import { mergeInputs, readDmtFile } from "../config/dmt.js";
import { secretsOf } from "../engine/wire/redact.js";
import { Inputs } from "./constants.js";

function readRawInputs(): RawInputs {
  const raw: RawInputs = {};
  for (const name of Object.values(Inputs)) {
    // Multiline inputs (tables, renames) keep their newlines; splitting is the config's job.
    (raw as Record<string, string>)[name] = core.getInput(name);
  }
  return raw;
}

/** Mask every credential before anything can print it. */
function maskSecrets(raw: RawInputs): string[] {
  const secrets = [
    ...secretsOf(raw[Inputs.SourceConnectionString]),
    ...secretsOf(raw[Inputs.DestinationConnectionString]),
    ...(raw[Inputs.GithubToken] ? [raw[Inputs.GithubToken]] : []),
  ].filter((s): s is string => !!s);
  const unique = [...new Set(secrets)];
  for (const s of unique) core.setSecret(s);
  return unique;
}

/**
 * The step's inputs, merged with its config-file if it names one. Every secret found is masked and pushed to
 * `secrets` as soon as it is read, so an error thrown half-way is still scrubbed of it.
 */
export function readInputs(secrets: string[]): { raw: RawInputs; notices: string[] } {
  let raw = readRawInputs();
  secrets.push(...maskSecrets(raw));
  const notices: string[] = [];
  const configFile = raw[Inputs.ConfigFile]?.trim();
  if (configFile) {
    const dmt = readDmtFile(configFile);
    secrets.push(...maskSecrets(dmt.inputs));
    raw = mergeInputs(raw, dmt.inputs);
    notices.push(...dmt.notices);
  }
  return { raw, notices };
}
