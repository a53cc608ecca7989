/**
 * NumPy `.npz` files: a zip archive (stored or deflated members, zip64 headers as NumPy writes them) of `.npy`
 * arrays, one per key (`x.npy` for the key `x`). The zip is read with fflate; each member's CRC-32 from the
 * central directory is checked here, since fflate does not.
 */
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { QrobustError } from '../core/errors.js';
import { parseNpy, type NpyArray } from './npy.js';

export interface NpzMember {
  readonly key: string;
  /** Whether the member was deflated (np.savez_compressed) rather than stored (np.savez). */
  readonly compressed: boolean;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Name → CRC-32 of every member, from the central directory (located the way fflate locates it). */
function centralCrcs(zip: Uint8Array): Map<string, number> {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let e = zip.length - 22;
  while (e > 0 && v.getUint32(e, true) !== 0x06054b50) e--;
  const out = new Map<string, number>();
  if (e < 0 || v.getUint32(e, true) !== 0x06054b50) return out;
  let count = v.getUint16(e + 10, true);
  let o = v.getUint32(e + 16, true);
  if (e >= 20 && v.getUint32(e - 20, true) === 0x07064b50) {
    const z = Number(v.getBigUint64(e - 12, true));
    if (z + 56 <= zip.length && v.getUint32(z, true) === 0x06064b50) {
      count = Number(v.getBigUint64(z + 32, true));
      o = Number(v.getBigUint64(z + 48, true));
    }
  }
  const decoder = new TextDecoder('utf-8');
  for (let i = 0; i < count && o + 46 <= zip.length && v.getUint32(o, true) === 0x02014b50; i++) {
    const nameLen = v.getUint16(o + 28, true);
    const name = decoder.decode(zip.subarray(o + 46, o + 46 + nameLen));
    out.set(name, v.getUint32(o + 16, true));
    o += 46 + nameLen + v.getUint16(o + 30, true) + v.getUint16(o + 32, true);
  }
  return out;
}

/** The keys of an .npz (member names without `.npy`), without decompressing anything. */
export function npzMembers(zip: Uint8Array, where: string): NpzMember[] {
  const members: NpzMember[] = [];
  unzipArchive(zip, where, (f) => {
    if (f.name.endsWith('.npy')) members.push({ key: f.name.slice(0, -4), compressed: f.compression !== 0 });
    return false;
  });
  return members;
}

function unzipArchive(zip: Uint8Array, where: string, filter: (f: UnzipFileInfo) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(zip, { filter });
  } catch (e) {
    throw new QrobustError('dataset_corrupt', `${where}: not a readable .npz (zip) file: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The arrays of the given keys (those present; absent keys are left out of the result). Only these members are
 * decompressed; each is checked against its CRC-32.
 */
export function readNpzArrays(zip: Uint8Array, where: string, keys: readonly string[]): Map<string, NpyArray> {
  const wanted = new Set(keys.map((k) => `${k}.npy`));
  const files = unzipArchive(zip, where, (f) => wanted.has(f.name));
  const crcs = centralCrcs(zip);
  const out = new Map<string, NpyArray>();
  for (const [name, bytes] of Object.entries(files)) {
    const expected = crcs.get(name);
    const actual = crc32(bytes);
    if (expected === undefined || expected !== actual) {
      const hex = (n: number): string => n.toString(16).padStart(8, '0');
      throw new QrobustError(
        'dataset_corrupt',
        `${where}: member ${name} is damaged (CRC-32 ${hex(actual)}, the archive says ${expected === undefined ? 'nothing' : hex(expected)})`,
      );
    }
    out.set(name.slice(0, -4), parseNpy(bytes, `${where}: ${name}`));
  }
  return out;
}
