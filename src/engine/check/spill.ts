// Compact key records spilled to bucket files on disk, so that comparing two tables of any size only
// ever holds one bucket in memory. A record is an entity's keys, a flag byte and a 16-byte digest of
// its typed properties.
import { closeSync, existsSync, openSync, readSync, statSync, appendFileSync } from "node:fs";
import { join } from "node:path";

export const DIGEST_BYTES = 16;

export interface KeyRecord {
  partitionKey: string;
  rowKey: string;
  flag: number;
  /** DIGEST_BYTES bytes as a latin1 string (compact, comparable with ===). */
  digest: string;
}

/** FNV-1a over UTF-16 code units, then murmur3's finalizer mixed with `salt`: good low bits at every salt. */
export function hashString(s: string, salt: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= Math.imul(salt + 1, 0x9e3779b9);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function recordBytes(pk: Buffer, rk: Buffer): number {
  return 8 + pk.length + rk.length + 1 + DIGEST_BYTES;
}

function encodeInto(out: Buffer, at: number, pk: Buffer, rk: Buffer, rec: KeyRecord): number {
  out.writeUInt32LE(pk.length, at);
  out.writeUInt32LE(rk.length, at + 4);
  pk.copy(out, at + 8);
  rk.copy(out, at + 8 + pk.length);
  let o = at + 8 + pk.length + rk.length;
  out[o++] = rec.flag;
  out.write(rec.digest, o, DIGEST_BYTES, "latin1");
  return o + DIGEST_BYTES;
}

/** `count` append-only bucket files named `<name>-<i>.bin` in `dir`, each written through its own buffer. */
export class SpillFiles {
  private readonly buffers: (Buffer | undefined)[];
  private readonly used: number[];
  records = 0;

  constructor(
    readonly dir: string,
    readonly name: string,
    readonly count: number,
    private readonly bufferBytes = 32 * 1024,
  ) {
    this.buffers = new Array<Buffer | undefined>(count).fill(undefined);
    this.used = new Array<number>(count).fill(0);
  }

  path(bucket: number): string {
    return join(this.dir, `${this.name}-${bucket}.bin`);
  }

  add(bucket: number, rec: KeyRecord): void {
    const pk = Buffer.from(rec.partitionKey, "utf8");
    const rk = Buffer.from(rec.rowKey, "utf8");
    const size = recordBytes(pk, rk);
    this.records++;
    if (size > this.bufferBytes) {
      // A record larger than the buffer (keys of many KB) goes straight to the file.
      this.flushBucket(bucket);
      const one = Buffer.allocUnsafe(size);
      encodeInto(one, 0, pk, rk, rec);
      appendFileSync(this.path(bucket), one);
      return;
    }
    if (this.used[bucket] + size > this.bufferBytes) this.flushBucket(bucket);
    const buf = (this.buffers[bucket] ??= Buffer.allocUnsafe(this.bufferBytes));
    this.used[bucket] = encodeInto(buf, this.used[bucket], pk, rk, rec);
  }

  private flushBucket(bucket: number): void {
    const buf = this.buffers[bucket];
    if (!buf || this.used[bucket] === 0) return;
    appendFileSync(this.path(bucket), buf.subarray(0, this.used[bucket]));
    this.used[bucket] = 0;
  }

  /** Write out every buffer and let them go. */
  flush(): void {
    for (let i = 0; i < this.count; i++) {
      this.flushBucket(i);
      this.buffers[i] = undefined;
    }
  }
}

export function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Every record of a bucket file, read 1 MiB at a time (nothing when the file does not exist). */
export function* readRecords(path: string): Generator<KeyRecord> {
  if (!existsSync(path)) return;
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let rest = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let buf = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let o = 0;
      while (buf.length - o >= 8) {
        const pkLen = buf.readUInt32LE(o);
        const rkLen = buf.readUInt32LE(o + 4);
        const end = o + 8 + pkLen + rkLen + 1 + DIGEST_BYTES;
        if (end > buf.length) break;
        const pkStart = o + 8;
        const rkStart = pkStart + pkLen;
        const flagAt = rkStart + rkLen;
        yield {
          partitionKey: buf.toString("utf8", pkStart, rkStart),
          rowKey: buf.toString("utf8", rkStart, flagAt),
          flag: buf[flagAt],
          digest: buf.toString("latin1", flagAt + 1, end),
        };
        o = end;
      }
      // Copy the unfinished tail: `chunk` is reused by the next read.
      buf = buf.subarray(o);
      rest = Buffer.from(buf);
    }
    if (rest.length > 0) throw new Error(`${path}: a truncated record at the end of a spill file`);
  } finally {
    closeSync(fd);
  }
}
