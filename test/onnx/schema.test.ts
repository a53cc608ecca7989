import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findOnnxProto, generate } from '../../scripts/generate-onnx-schema.js';
import { onnxType } from '../../src/onnx/schema.js';

const proto = findOnnxProto();

test('the committed ONNX schema is what the onnx package\'s own onnx.proto generates', { skip: proto ? false : 'no onnx Python package (python3-onnx) to read onnx.proto from' }, () => {
  const committed = readFileSync(new URL('../../../src/onnx/onnx-proto.generated.ts', import.meta.url), 'utf8');
  const fresh = generate(readFileSync(proto!.path, 'utf8'), `onnx.proto of ONNX ${proto!.version}`);
  assert.equal(committed, fresh, 'regenerate with: node dist/scripts/generate-onnx-schema.js');
});

test('field numbers and packing of the generated schema are ONNX\'s (spot checks from the ONNX IR specification)', () => {
  const field = (type: string, name: string) => onnxType(type).fields[name]!;
  assert.equal(field('ModelProto', 'graph').id, 7);
  assert.equal(field('ModelProto', 'opsetImport').id, 8);
  assert.equal(field('NodeProto', 'opType').id, 4);
  assert.equal(field('TensorProto', 'rawData').id, 9);
  assert.equal(field('AttributeProto', 'type').id, 20);
  // proto2: typed data arrays are declared packed, dims and attribute lists are not.
  assert.equal(field('TensorProto', 'floatData').packed, true);
  assert.equal(field('TensorProto', 'dims').packed, false);
  assert.equal(field('AttributeProto', 'ints').packed, false);
  // A dims field encoded unpacked: tag (1 << 3 | 0) before each value.
  const bytes = onnxType('TensorProto').encode({ dims: [3, 4] }).finish();
  assert.deepEqual([...bytes], [0x08, 3, 0x08, 4]);
});
