// Nothing the CLI prints may carry a secret: connection strings, account keys and SAS signatures are
// masked in every line, whether they were given as flags, environment variables or in `.env`.
import { parseConnectionString } from "../engine/wire/connection.js";

export const MASK = "***";

/** The secret fragments of a connection string: itself, its AccountKey, its SAS and the SAS's sig. */
export function connectionStringSecrets(cs: string | undefined): string[] {
  const value = cs?.trim();
  if (!value) return [];
  const secrets = [value];
  try {
    const parts = parseConnectionString(value);
    if (parts.accountKey) secrets.push(parts.accountKey);
    if (parts.sas) secrets.push(parts.sas, ...sigValues(parts.sas));
  } catch {
    // Not parseable: the patterns below still catch its key and signature.
  }
  for (const m of value.matchAll(/(?:AccountKey|SharedAccessSignature)=([^;]+)/gi)) secrets.push(m[1].trim());
  secrets.push(...sigValues(value));
  return secrets;
}

function sigValues(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[?&;])sig=([^&;\s"']+)/gi)) {
    out.push(m[1]);
    try {
      out.push(decodeURIComponent(m[1]));
    } catch {
      /* not URI-encoded */
    }
  }
  return out;
}

export class Masker {
  private secrets: string[] = [];

  constructor(secrets: Iterable<string | undefined> = []) {
    this.add(...secrets);
  }

  add(...secrets: (string | undefined)[]): void {
    for (const s of secrets) {
      // Very short values would mask ordinary words; their patterns are still masked below.
      if (s && s.length >= 6 && !this.secrets.includes(s)) this.secrets.push(s);
    }
    this.secrets.sort((a, b) => b.length - a.length); // longest first, so a key inside a string goes with it
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(MASK);
    return out
      .replace(/(AccountKey=)[^;\s"']+/gi, `$1${MASK}`)
      .replace(/(SharedAccessSignature=)[^;\s"']+/gi, `$1${MASK}`)
      .replace(/([?&;\s]sig=)[^&;\s"']+/gi, `$1${MASK}`)
      .replace(/^(sig=)[^&;\s"']+/gi, `$1${MASK}`);
  }
}
