/**
 * The VNN-COMP 2023 traffic-sign BNNs (binarized Larq exports: Sign activations, ±1 weights) are refused by the
 * importer in one line that names the Sign node, so that no binarized network is silently run as a float one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { importOnnx } from '../../src/import/onnx/index.js';
import { MNISTFC } from '../verify/fixtures.js';

const FOLDER = MNISTFC ? join(dirname(MNISTFC), 'traffic_signs_recognition', 'onnx') : null;
const SKIP: string | false = FOLDER && existsSync(FOLDER) ? false : 'no shared/benchmarks/traffic_signs_recognition beside the checkout';

test('each traffic-sign BNN is refused in one line naming its first Sign node', { skip: SKIP }, async () => {
  const files = (await readdir(FOLDER!)).filter((f) => f.endsWith('.onnx.gz'));
  assert.equal(files.length, 3);
  for (const file of files) {
    const size = Number(/^3_(\d+)_/.exec(file)![1]);
    const bytes = gunzipSync(await readFile(join(FOLDER!, file)));
    assert.throws(
      () => importOnnx({ file, bytes, imageShape: [size, size, 3], numClasses: 43 }),
      (e: Error) => /: node '[^']*Sign' \(Sign\): not supported/.test(e.message) && !e.message.includes('\n'),
      file,
    );
  }
});
