/**
 * Clean accuracy of a Keras HDF5 file as the importer reads it, with argmax over all of the network's outputs
 * (Henzinger et al.'s MNIST network has 32, of which labels use the first 10, so `qrobust import` refuses it).
 *
 *   node dist/scripts/crosscheck/keras-float-accuracy.js FILE DATASET [--arch A] [--layout L] [--scale S]
 *
 * The network is fed pixel · S with pixels in [0, 1] (default S = 1).
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { loadDataset } from '../../src/data/index.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importKerasH5 } from '../../src/import/keras/index.js';
import type { InputLayout } from '../../src/import/types.js';

const [file, dataset, ...rest] = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
await initBackend('wasm');
const test = await loadDataset(dataset!, 'test', { allowDownload: false, onProgress: null });
const scale = Number(flag('scale') ?? 1);
const arch = flag('arch');
const layout = flag('layout') as InputLayout | undefined;
const net = await importKerasH5({
  file: file!,
  bytes: readFileSync(file!),
  imageShape: test.shape,
  numClasses: test.numClasses,
  ...(arch ? { arch } : {}),
  ...(layout ? { layout } : {}),
});
const model = buildLayersModel(net.graph, scale === 1 ? undefined : { mean: [0], std: [1 / scale] });
let correct = 0;
const size = test.shape[0] * test.shape[1] * test.shape[2];
for (let start = 0; start < test.count; start += 500) {
  const n = Math.min(500, test.count - start);
  const x = Float32Array.from(test.pixels.subarray(start * size, (start + n) * size), (p) => p / 255);
  const pred = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(x, [n, ...test.shape])) as tf.Tensor, -1).dataSync());
  for (let i = 0; i < n; i++) if (pred[i] === test.labels[start + i]) correct++;
}
model.dispose();
console.log(JSON.stringify({ file, dataset, variant: test.variant, n: test.count, outputs: net.details['outputs'], accuracy: correct / test.count }));
