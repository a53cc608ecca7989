/**
 * Named members out of a dataset tarball without unpacking the rest. The archive format (POSIX ustar, GNU long
 * names, pax headers) is read by tar-stream; this module chooses members, buffers only the wanted ones and turns
 * a damaged or truncated archive into one error that names it.
 */
import { Readable } from 'node:stream';
import { extract, type Headers } from 'tar-stream';
import { QrobustError } from '../core/errors.js';

export interface TarEntry {
  readonly name: string;
  readonly size: number;
  /** '0' regular file, '5' directory, ... (the ustar type flag). */
  readonly type: string;
}

const TYPE_FLAGS: Readonly<Record<string, string>> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
};

function entryOf(h: Headers): TarEntry {
  return { name: h.name.replace(/^\.\//, ''), size: h.size ?? 0, type: TYPE_FLAGS[h.type ?? 'file'] ?? String(h.type) };
}

function corrupt(archiveName: string, e: unknown): QrobustError {
  const message = e instanceof Error ? e.message : String(e);
  const problem = /unexpected end/i.test(message)
    ? 'unexpected end of the tar archive (truncated?)'
    : /invalid tar header|checksum/i.test(message)
      ? 'not a tar archive, or a damaged tar header'
      : `unreadable tar archive (${message})`;
  return new QrobustError('dataset_corrupt', `${archiveName}: ${problem}`);
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
  const input = Readable.from(source, { objectMode: false });
  const members = extract();
  input.on('error', (e) => members.destroy(e));
  input.pipe(members);
  let taken = 0;
  try {
    for await (const member of members) {
      const entry = entryOf(member.header);
      const regular = entry.type === '0' || entry.type === '7';
      if (regular && want(entry)) {
        const parts: Buffer[] = [];
        for await (const part of member) parts.push(part as Buffer);
        await onMember(entry, Buffer.concat(parts));
        taken++;
        if (stopAfter !== undefined && taken >= stopAfter) return;
      } else {
        member.resume();
      }
    }
  } catch (e) {
    if (e instanceof QrobustError) throw e;
    throw corrupt(archiveName, e);
  } finally {
    input.unpipe(members);
    input.destroy();
    members.destroy();
  }
}
