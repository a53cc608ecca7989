import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { QrobustError } from '../../src/core/errors.js';
import { ATTACK_NAMES, attack, getAttack, runAttack } from '../../src/attacks/index.js';
import { LinearClassifier, constantBatch } from './fixtures.js';

await initBackend('wasm');

const SHAPE = [2, 2, 1] as const;
const model = new LinearClassifier(SHAPE, [[1, -1], [0.5, 0.2], [-0.3, 0.4], [0.1, 0.1]], [0.5, 0]);
const x = constantBatch(2, SHAPE, 0.5);
const labels = Int32Array.of(0, 1);

function rejects(fn: () => unknown, pattern: RegExp, code = 'invalid_option'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof QrobustError, `expected a QrobustError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

test('an unknown attack name lists the valid names', () => {
  rejects(() => getAttack('deepfoo'), new RegExp(`unknown attack 'deepfoo' \\(attacks: ${ATTACK_NAMES.join(', ')}\\)`));
  assert.deepEqual(
    [...ATTACK_NAMES],
    ['fgsm', 'bim', 'pgd', 'mim', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'cw-l2', 'deepfool', 'fab', 'fab-t', 'square', 'spsa', 'hopskipjump', 'auto'],
  );
});

test('bad option values name the attack, what was expected and what was given', () => {
  rejects(() => attack('fgsm', model, x, labels, { epsilon: -0.1 }), /^fgsm: expected epsilon >= 0, got -0\.1$/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: Number.NaN }), /expected epsilon >= 0, got NaN/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, steps: 0 }), /^pgd: expected steps >= 1 \(an integer\), got 0$/);
  rejects(() => attack('bim', model, x, labels, { epsilon: 0.1, steps: 2.5 }), /expected steps >= 1/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, restarts: 0 }), /expected restarts >= 1/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, stepSize: 0 }), /expected stepSize > 0, got 0/);
  rejects(() => attack('mim', model, x, labels, { epsilon: 0.1, decay: -1 }), /expected decay >= 0, got -1/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, loss: 'hinge' as never }), /expected loss one of ce, margin, dlr, got 'hinge'/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, norm: 'l1' as never }), /expected norm one of linf, l2, got 'l1'/);
});

test('options an attack does not use are rejected by name', () => {
  rejects(() => attack('fgsm', model, x, labels, { epsilon: 0.1, steps: 10 }), /^fgsm: unknown option 'steps' \(options: .*loss, earlyStop, eot\)$/);
  rejects(() => attack('bim', model, x, labels, { epsilon: 0.1, restarts: 3 }), /bim: unknown option 'restarts'/);
});

test('targets and inputs are checked against the classifier', () => {
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, targets: Int32Array.of(1) }), /expected 2 targets \(one per input\), got 1/);
  rejects(() => attack('pgd', model, x, labels, { epsilon: 0.1, targets: Int32Array.of(1, 2) }), /expected targets in 0\.\.1, got 2/);
  rejects(() => attack('pgd', model, x, Int32Array.of(0, 5), { epsilon: 0.1 }), /expected labels in 0\.\.1, got 5/, 'invalid_argument');
  const outside = constantBatch(2, SHAPE, 1.5);
  rejects(() => attack('fgsm', model, outside, labels, { epsilon: 0.1 }), /expected inputs in \[0, 1\], got values in \[1\.5, 1\.5\]/, 'invalid_argument');
  const wrong = constantBatch(2, [3, 3, 1], 0.5);
  rejects(() => attack('fgsm', model, wrong, labels, { epsilon: 0.1 }), /expected inputs \[N,2,2,1\], got \[2,3,3,1\]/, 'shape_mismatch');
  tf.dispose([outside, wrong]);
});

test('runAttack checks the ε list and the batch size before any work', () => {
  rejects(() => runAttack('pgd', model, x, labels, { epsilons: [] }), /pgd: expected a non-empty list of epsilons/);
  rejects(() => runAttack('pgd', model, x, labels, { epsilons: [0.1, -1] }), /expected epsilon >= 0, got -1/);
  rejects(() => runAttack('pgd', model, x, labels, { epsilons: [0.1], batchSize: 0 }), /expected batchSize >= 1, got 0/);
  rejects(() => runAttack('nope', model, x, labels, { epsilons: [0.1] }), /unknown attack 'nope'/);
});
