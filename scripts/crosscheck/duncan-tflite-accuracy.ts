/**
 * Measures the Duncan et al. TFLite network as qrobust imports it: clean accuracy of the float path (dequantized
 * weights, TF.js) and of the deployed hybrid path (TFLite's dynamic-range semantics), their label agreement,
 * the fake-quant path's agreement with the deployed one, and optionally the agreement with a reference file
 * written by `tflite_reference.mjs` (TFLite's own interpreter) on the same images.
 *
 * Usage: node dist/scripts/crosscheck/duncan-tflite-accuracy.js <model.tflite> [reference.json]
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import { classifierLogits, LayersClassifier } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { sourceQuantizedClassifierFromImport } from '../../src/quant/hybrid/load-hybrid.js';

interface Ref { rows: { output: number[] }[] }

const [modelPath, refPath] = process.argv.slice(2);
if (!modelPath) throw new Error('usage: duncan-tflite-accuracy.js <model.tflite> [reference.json]');
await initBackend('wasm');
const data = await loadDataset('cifar10', 'test');
const net = importTflite({ file: modelPath, bytes: readFileSync(modelPath), imageShape: data.shape, numClasses: data.numClasses, layout: 'flat-nchw' });
const float = new LayersClassifier(buildLayersModel(net.graph));
const deployed = sourceQuantizedClassifierFromImport(net, undefined, { integer: true });
const fakeQuant = sourceQuantizedClassifierFromImport(net, undefined, {});
const t0 = Date.now();
const logits = { float: classifierLogits(float, data), deployed: classifierLogits(deployed, data), fakeQuant: classifierLogits(fakeQuant, data) };
const seconds = (Date.now() - t0) / 1000;
const pred = { float: argmaxRows(logits.float, 10), deployed: argmaxRows(logits.deployed, 10), fakeQuant: argmaxRows(logits.fakeQuant, 10) };
const frac = (f: (i: number) => boolean): number => Array.from({ length: data.count }, (_, i) => i).filter(f).length / data.count;
const report: Record<string, unknown> = {
  images: `${data.count} (${data.variant})`,
  accuracy: { float: frac((i) => pred.float[i] === data.labels[i]), deployed: frac((i) => pred.deployed[i] === data.labels[i]), fakeQuant: frac((i) => pred.fakeQuant[i] === data.labels[i]) },
  agreement: { floatVsDeployed: frac((i) => pred.float[i] === pred.deployed[i]), fakeQuantVsDeployed: frac((i) => pred.fakeQuant[i] === pred.deployed[i]) },
  seconds,
};
if (refPath) {
  const ref = JSON.parse(readFileSync(refPath, 'utf8')) as Ref;
  const n = Math.min(ref.rows.length, data.count);
  let maxDiff = 0;
  let agree = 0;
  let floatDiff = 0;
  for (let i = 0; i < n; i++) {
    const soft = (l: Float32Array): number[] => {
      const row = Array.from(l.subarray(i * 10, i * 10 + 10));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const p = soft(logits.deployed);
    const pf = soft(logits.float);
    const r = ref.rows[i]!.output;
    if (r.indexOf(Math.max(...r)) === pred.deployed[i]) agree++;
    for (let k = 0; k < 10; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(p[k]! - r[k]!));
      floatDiff = Math.max(floatDiff, Math.abs(pf[k]! - r[k]!));
    }
  }
  report['reference'] = { images: n, labelAgreementDeployed: agree / n, maxAbsSoftmaxDiffDeployed: maxDiff, maxAbsSoftmaxDiffFloat: floatDiff };
}
console.log(JSON.stringify(report, null, 2));
for (const c of [float, deployed, fakeQuant]) c.dispose();
