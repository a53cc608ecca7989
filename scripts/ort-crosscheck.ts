/**
 * Runs quantized model directories through ONNX Runtime (after `qrobust export`'s conversion) and through
 * qrobust's integer path on a whole test split, and reports how many output codes and predictions agree, for the
 * 'onnxruntime' rounding and for TFLite's default 'double' rounding.
 *
 *   node dist/scripts/ort-crosscheck.js [--n N] QDIR...
 */
import * as ort from 'onnxruntime-node';
import { initBackend } from '../src/backend/backend.js';
import { loadDataset } from '../src/data/index.js';
import { argmax } from '../src/models/prediction.js';
import { writeOnnxModel } from '../src/onnx/index.js';
import { IntegerClassifier } from '../src/quant/integer/integer-classifier.js';
import { integerProgramToOnnx } from '../src/quant/integer/onnx-export.js';
import { loadClassifier } from '../src/quant/load-classifier.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const ni = argv.indexOf('--n');
  const n = ni >= 0 ? Number(argv.splice(ni, 2)[1]) : undefined;
  await initBackend();
  for (const dir of argv) {
    const loaded = await loadClassifier(dir, { integer: true, rounding: 'onnxruntime' });
    const ours = loaded.classifier as IntegerClassifier;
    const tflite = (await loadClassifier(dir, { integer: true, rounding: 'double' })).classifier as IntegerClassifier;
    const data = await loadDataset(loaded.meta.dataset, 'test', n ? { n, seed: 0 } : {});
    const pixels = Float32Array.from(data.pixels, (v) => v / 255);
    const session = await ort.InferenceSession.create(writeOnnxModel(integerProgramToOnnx(ours.program, dir)));
    const t0 = Date.now();
    const out = await session.run({ pixels: new ort.Tensor('float32', pixels, [data.count, ...ours.inputShape]) });
    const ortSeconds = (Date.now() - t0) / 1000;
    const theirs = out['codes']!.data as Int8Array;
    const mine = ours.codes(pixels, data.count);
    const tfl = tflite.codes(pixels, data.count);
    const k = ours.numClasses;
    let same = 0;
    let sameT = 0;
    for (let i = 0; i < theirs.length; i++) {
      if (theirs[i] === mine[i]) same++;
      if (theirs[i] === tfl[i]) sameT++;
    }
    let predSame = 0;
    let predSameT = 0;
    let correct = 0;
    for (let r = 0; r < data.count; r++) {
      const a = argmax(theirs, r * k, r * k + k);
      if (a === argmax(mine, r * k, r * k + k)) predSame++;
      if (a === argmax(tfl, r * k, r * k + k)) predSameT++;
      if (a === data.labels[r]) correct++;
    }
    const pct = (x: number, of: number): string => `${((100 * x) / of).toFixed(2)}%`;
    process.stdout.write(
      JSON.stringify({
        dir,
        images: data.count,
        onnxruntimeAccuracy: correct / data.count,
        identicalCodes: pct(same, theirs.length),
        identicalPredictions: pct(predSame, data.count),
        tfliteDoubleRounding: { identicalCodes: pct(sameT, theirs.length), identicalPredictions: pct(predSameT, data.count) },
        onnxruntimeSeconds: ortSeconds,
        onnxruntimeVersion: ort.env.versions.common,
      }) + '\n',
    );
    await session.release();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`ort-crosscheck: ${(e as Error).message}\n`);
  process.exit(1);
});
