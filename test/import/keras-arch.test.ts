/**
 * `--arch` for weights-only Keras files: each zoo name stands for exactly the layers the zoo builds
 * (checked against the zoo's own TF.js model, read back as a layer graph), and layer lists parse as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { QrobustError } from '../../src/core/errors.js';
import { parseArch, type ArchLayer } from '../../src/import/keras/index.js';
import { graphFromModel } from '../../src/models/graph.js';
import { ARCH_NAMES } from '../../src/models/arch-names.js';
import { buildModel } from '../../src/models/zoo.js';

await initBackend('wasm');

const SPECS = [
  { inputShape: [28, 28, 1] as const, numClasses: 10, mean: [0], std: [1] },
  { inputShape: [32, 32, 3] as const, numClasses: 7, mean: [0, 0, 0], std: [1, 1, 1] },
];

test('every zoo architecture name gives the layers the zoo builds', () => {
  for (const arch of ARCH_NAMES) {
    for (const spec of SPECS) {
      const model = buildModel(arch, spec);
      const steps = graphFromModel(model).steps;
      model.dispose();
      const fromZoo: ArchLayer[] = [];
      for (const s of steps) {
        if (s.kind === 'dense') fromZoo.push({ kind: 'dense', units: s.kernelShape[1] });
        if (s.kind === 'conv2d') {
          assert.deepEqual([s.kernelShape[0], s.kernelShape[1], ...s.strides, s.padding, s.activation], [3, 3, 1, 1, 'same', 'relu'], `${arch} ${s.name}`);
          fromZoo.push({ kind: 'conv', filters: s.kernelShape[3] });
        }
        if (s.kind === 'maxPool') {
          assert.deepEqual([...s.poolSize, ...s.strides, s.padding], [2, 2, 2, 2, 'valid'], `${arch} ${s.name}`);
          fromZoo.push({ kind: 'maxPool' });
        }
      }
      assert.deepEqual(parseArch('m.h5', arch, spec.numClasses), fromZoo, arch);
      const denses = steps.filter((s) => s.kind === 'dense');
      assert.deepEqual(denses.map((s) => s.kind === 'dense' && s.activation), [...denses.slice(1).map(() => 'relu'), 'linear'], `${arch}: ReLU after every dense but the last`);
    }
  }
});

test('a dense layer list parses as written; anything else is an unknown architecture naming the file', () => {
  assert.deepEqual(parseArch('m.h5', 'dense:256, 256,10', 10), [256, 256, 10].map((units) => ({ kind: 'dense', units })));
  for (const bad of ['dense:', 'dense:0,10', 'dense:64,,10', 'conv:3', 'MLP']) {
    assert.throws(
      () => parseArch('m.h5', bad, 10),
      (e: unknown) => e instanceof QrobustError && e.code === 'unknown_arch' && e.message.startsWith(`m.h5: --arch '${bad}': expected a zoo architecture`),
      bad,
    );
  }
});
