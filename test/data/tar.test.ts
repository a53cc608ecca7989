/**
 * The tar reader on archives written by GNU tar 1.34 (not by the test's own writer), made from one folder:
 *
 *     tar-fixture/short.txt   "qrobust tar fixture\n"
 *     tar-fixture/empty       0 bytes
 *     tar-fixture/a-directory-whose-name-is-long-enough/that-together-with-its-file-name/
 *         the-path-is-longer-than-the-one-hundred-bytes-of-a-ustar-name-field.bin   700 bytes, byte i = i mod 251
 *
 * with, for FORMAT in gnu (long name in a ././@LongLink 'L' member), pax (a 'path' record in an 'x' header) and
 * ustar (the name split into prefix and name fields):
 *
 *     tar --format=FORMAT --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --blocking-factor=1 \
 *         [--pax-option=delete=atime,delete=ctime] -cf test/fixtures/tar/FORMAT.tar tar-fixture
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { readTar, type TarEntry } from '../../src/data/tar.js';

const LONG_DIR = 'tar-fixture/a-directory-whose-name-is-long-enough/that-together-with-its-file-name';
const LONG = `${LONG_DIR}/the-path-is-longer-than-the-one-hundred-bytes-of-a-ustar-name-field.bin`;
const FILES = new Map<string, Buffer>([
  [LONG, Buffer.from(Array.from({ length: 700 }, (_, i) => i % 251))],
  ['tar-fixture/empty', Buffer.alloc(0)],
  ['tar-fixture/short.txt', Buffer.from('qrobust tar fixture\n')],
]);

function chunks(buf: Buffer, size: number): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    },
  };
}

for (const format of ['gnu', 'pax', 'ustar']) {
  test(`a ${format} archive made by GNU tar reads back every file, the long path included`, async () => {
    const archive = await readFile(new URL(`../../../test/fixtures/tar/${format}.tar`, import.meta.url));
    for (const size of [archive.length, 512, 7]) {
      const offered: TarEntry[] = [];
      const got = new Map<string, Buffer>();
      await readTar(chunks(archive, size), `${format}.tar`, (e) => (offered.push(e), true), (e, data) => void got.set(e.name, Buffer.from(data)));
      assert.ok(LONG.length > 100);
      assert.deepEqual(offered.map((e) => [e.name, e.size, e.type]), [...FILES].map(([name, data]) => [name, data.length, '0']));
      assert.deepEqual(got, FILES);
    }
  });
}

test('reading stops after the wanted members: a GNU tar archive cut right after them still reads', async () => {
  const archive = await readFile(new URL('../../../test/fixtures/tar/gnu.tar', import.meta.url));
  const long = FILES.get(LONG)!;
  const cut = archive.subarray(0, Math.ceil((archive.indexOf(long) + long.length) / 512) * 512);
  const wantLong = (e: TarEntry): boolean => e.name === LONG;
  // Cut inside the wanted member's data: a truncated archive, named in the error.
  const inside = archive.subarray(0, archive.indexOf(long) + 300);
  await assert.rejects(readTar(chunks(inside, 512), 'inside.tar', wantLong, () => undefined), /inside\.tar: unexpected end of the tar archive \(truncated\?\)/);
  // Bytes that are no tar header at all.
  await assert.rejects(readTar(chunks(Buffer.alloc(1024, 7), 512), 'junk.tar', wantLong, () => undefined), /junk\.tar: not a tar archive, or a damaged tar header/);
  const got: string[] = [];
  await readTar(chunks(cut, 512), 'cut.tar', wantLong, (e, data) => void got.push(`${e.name} ${data.length}`), 1);
  assert.deepEqual(got, [`${LONG} 700`]);
});
