/**
 * A small streaming reader for tar archives (POSIX ustar, with the GNU long-name and pax path extensions), enough
 * to pull named members out of a dataset tarball without unpacking the rest.
 */
import { QrobustError } from '../core/errors.js';

const BLOCK = 512;

export interface TarEntry {
  readonly name: string;
  readonly size: number;
  /** '0' regular file, '5' directory, ... (the ustar type flag; NUL is reported as '0'). */
  readonly type: string;
}

/** Pulls exact byte counts out of an async stream of chunks. */
class ChunkReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (b.length > 0) {
        this.chunks.push(b);
        this.buffered += b.length;
      }
    }
    return this.buffered >= n;
  }

  /** Exactly `n` bytes, or null when the stream ends first. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return null;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Skips `n` bytes; false when the stream ends first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) return false;
      const head = this.chunks[0]!;
      if (head.length <= left) {
        left -= head.length;
        this.buffered -= head.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = head.subarray(left);
        this.buffered -= left;
        left = 0;
      }
    }
    return true;
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(b: Buffer, start: number, len: number): number {
  const field = b.subarray(start, start + len);
  if (field[0]! & 0x80) {
    // GNU base-256 encoding for large values.
    let v = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const s = cString(b, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function headerChecksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === octal(h, 148, 8);
}

function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

/**
 * Reads a tar stream (already decompressed) and calls `onMember` with the full contents of each regular file for
 * which `want` returns true; other members are skipped without being buffered. Stops early once `want` has been
 * satisfied for `stopAfter` members, when given. A malformed archive is a QrobustError('dataset_corrupt').
 */
export async function readTar(
  source: AsyncIterable<Uint8Array>,
  archiveName: string,
  want: (entry: TarEntry) => boolean,
  onMember: (entry: TarEntry, data: Buffer) => Promise<void> | void,
  stopAfter?: number,
): Promise<void> {
  const reader = new ChunkReader(source);
  const bad = (problem: string): QrobustError => new QrobustError('dataset_corrupt', `${archiveName}: ${problem}`);
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  let taken = 0;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (!header) throw bad('unexpected end of the tar archive (truncated?)');
    if (header.every((x) => x === 0)) return; // end-of-archive marker
    if (!headerChecksumOk(header)) throw bad('not a tar archive, or a damaged tar header');
    const rawType = String.fromCharCode(header[156]!);
    const type = rawType === '\u0000' ? '0' : rawType;
    let size = octal(header, 124, 12);
    let name = cString(header, 0, 100);
    // POSIX ustar ("ustar\0") has a name prefix field; old GNU headers ("ustar  ") use those bytes for other things.
    const posix = header.toString('latin1', 257, 263) === 'ustar\u0000';
    const prefix = posix ? cString(header, 345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
    if (longName !== undefined) name = longName;
    if (paxPath !== undefined) name = paxPath;
    if (paxSize !== undefined) size = paxSize;
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L' || type === 'x' || type === 'g') {
      const data = await reader.read(padded);
      if (!data) throw bad('unexpected end of the tar archive (truncated?)');
      const body = data.subarray(0, size);
      if (type === 'L') {
        longName = cString(body, 0, body.length);
      } else if (type === 'x') {
        const pax = parsePax(body);
        paxPath = pax.get('path');
        const s = pax.get('size');
        paxSize = s !== undefined ? Number(s) : undefined;
      }
      continue;
    }
    longName = undefined;
    paxPath = undefined;
    paxSize = undefined;

    const entry: TarEntry = { name: name.replace(/^\.\//, ''), size, type };
    if ((type === '0' || type === '7') && want(entry)) {
      const data = await reader.read(padded);
      if (!data) throw bad(`unexpected end of the tar archive inside ${entry.name} (truncated?)`);
      await onMember(entry, data.subarray(0, size));
      taken++;
      if (stopAfter !== undefined && taken >= stopAfter) return;
    } else if (!(await reader.skip(padded))) {
      throw bad(`unexpected end of the tar archive inside ${entry.name} (truncated?)`);
    }
  }
}
