// Keeping secrets out of every message: connection strings, account keys and SAS signatures.

/** Secret fragments of a connection string: the whole string, its AccountKey, its SAS and the SAS `sig`. */
export function secretsOf(connectionString: string | undefined): string[] {
  if (!connectionString) return [];
  const out = [connectionString];
  for (const part of connectionString.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (!value) continue;
    if (key === "accountkey" || key === "sharedaccesssignature") out.push(value);
    if (key === "sharedaccesssignature") out.push(...sigsOf(value));
  }
  return out;
}

function sigsOf(sas: string): string[] {
  const sig = /(?:^|[?&])sig=([^&;]+)/.exec(sas)?.[1];
  if (!sig) return [];
  let decoded = sig;
  try {
    decoded = decodeURIComponent(sig);
  } catch {
    /* keep the raw form */
  }
  return [...new Set([sig, decoded, encodeURIComponent(decoded)])];
}

/** Replace every secret (longest first) and any `sig=` query value with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x && x.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join("***");
  }
  return out.replace(/([?&;]sig=)[^&\s'"]+/gi, "$1***").replace(/(AccountKey=)[^;\s'"]+/gi, "$1***");
}
