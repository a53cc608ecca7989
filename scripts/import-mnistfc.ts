/**
 * The VNN-COMP 2021 mnistfc networks through the ONNX importer: clean accuracy of the built TF.js model on the
 * first N MNIST test images, the largest |Δlogit| against ONNX Runtime on the same images, and how long an
 * import takes (file bytes → ModelGraph, median of 5) and a build (ModelGraph → TF.js model).
 *
 *   node dist/scripts/import-mnistfc.js [BENCH_DIR] [--n 1000]
 *
 * BENCH_DIR defaults to `shared/benchmarks/mnistfc` beside the checkout.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../src/backend/backend.js';
import { tf } from '../src/backend/tf.js';
import { loadDataset } from '../src/data/index.js';
import { findSiblingMirror } from '../src/data/locate.js';
import { buildLayersModel } from '../src/import/build-layers.js';
import { importOnnx } from '../src/import/onnx/index.js';

const NETS = ['mnist-net_256x2.onnx', 'mnist-net_256x4.onnx', 'mnist-net_256x6.onnx'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { n: { type: 'string', default: '1000' } }, allowPositionals: true });
  const n = Number(values.n);
  const mirror = findSiblingMirror();
  const dir = positionals[0] ? resolve(positionals[0]) : mirror ? join(dirname(mirror), 'benchmarks', 'mnistfc') : null;
  if (!dir) throw new Error('no mnistfc folder: pass BENCH_DIR');
  await initBackend('wasm');
  const ds = await loadDataset('mnist', 'test', { n, allowDownload: false });
  const images = Float32Array.from(ds.pixels, (v) => v / 255);
  console.log(`| network | import ms (median of 5) | build ms | accuracy (first ${n}) | max abs Δlogit vs ONNX Runtime |`);
  console.log('|---|---|---|---|---|');
  for (const net of NETS) {
    const bytes = new Uint8Array(await readFile(join(dir, net)));
    const times: number[] = [];
    let imported = importOnnx({ file: net, bytes, imageShape: [28, 28, 1], numClasses: 10 });
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      imported = importOnnx({ file: net, bytes, imageShape: [28, 28, 1], numClasses: 10 });
      times.push(performance.now() - t0);
    }
    const t1 = performance.now();
    const model = buildLayersModel(imported.graph);
    const buildMs = performance.now() - t1;
    const logits = tf.tidy(() => (model.predict(tf.tensor4d(images, [n, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
    const session = await ort.InferenceSession.create(bytes);
    let worst = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const x = new ort.Tensor('float32', images.slice(i * 784, (i + 1) * 784), [1, 784, 1]);
      const ref = (await session.run({ [session.inputNames[0]!]: x }))[session.outputNames[0]!]!.data as Float32Array;
      let best = 0;
      for (let k = 0; k < 10; k++) {
        worst = Math.max(worst, Math.abs(ref[k]! - logits[i * 10 + k]!));
        if (logits[i * 10 + k]! > logits[i * 10 + best]!) best = k;
      }
      if (best === ds.labels[i]) correct++;
    }
    await session.release();
    model.dispose();
    console.log(`| ${net} | ${median(times).toFixed(1)} | ${buildMs.toFixed(1)} | ${(correct / n * 100).toFixed(1)}% (${correct}/${n}) | ${worst.toExponential(2)} |`);
  }
}

await main();
