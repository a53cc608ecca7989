import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskingChecks, type MaskingEvidence } from '../../src/metrics/gradient-masking.js';

const healthy: MaskingEvidence = {
  singleStep: [{ eps: 0.1, accuracy: 0.4, by: 'FGSM' }],
  iterative: [{ eps: 0.1, accuracy: 0.1, by: 'PGD' }],
  whiteBox: [{ eps: 0.1, accuracy: 0.1, by: 'PGD' }],
  blackBox: [{ eps: 0.1, accuracy: 0.2, by: 'SQUARE' }],
  transfer: [{ eps: 0.1, accuracy: 0.5, by: 'transfer from fp' }],
  largeEps: { eps: 1, accuracy: 0, by: 'PGD' },
  zeroGradientShare: 0,
  curves: [{ attack: 'PGD', points: [{ eps: 0.05, value: 0.3 }, { eps: 0.1, value: 0.1 }] }],
};

function status(e: MaskingEvidence): Record<string, string> {
  return Object.fromEntries(maskingChecks(e).map((c) => [c.name, c.status]));
}

test('a model with informative gradients passes every check', () => {
  assert.deepEqual(status(healthy), {
    'single-step': 'pass',
    'black-box': 'pass',
    transfer: 'pass',
    'large-eps': 'pass',
    'zero-gradients': 'pass',
    monotonic: 'pass',
  });
});

test('the signs of masked gradients are flagged', () => {
  const masked: MaskingEvidence = {
    singleStep: [{ eps: 0.1, accuracy: 0.6, by: 'FGSM' }],
    iterative: [{ eps: 0.1, accuracy: 0.8, by: 'PGD' }],
    whiteBox: [{ eps: 0.1, accuracy: 0.6, by: 'FGSM' }],
    blackBox: [{ eps: 0.1, accuracy: 0.1, by: 'SQUARE' }],
    transfer: [{ eps: 0.1, accuracy: 0.3, by: 'transfer from fp' }],
    largeEps: { eps: 1, accuracy: 0.9, by: 'PGD' },
    zeroGradientShare: 1,
    curves: [{ attack: 'PGD', points: [{ eps: 0.05, value: 0.7 }, { eps: 0.1, value: 0.8 }] }],
  };
  const checks = maskingChecks(masked);
  assert.ok(checks.every((c) => c.status === 'flag'), JSON.stringify(checks));
  assert.match(checks.find((c) => c.name === 'single-step')!.detail, /FGSM 60\.0% < PGD 80\.0% at ε=0\.1/);
  assert.match(checks.find((c) => c.name === 'monotonic')!.detail, /\+10\.0% from ε=0\.05 to ε=0\.1/);
});

test('checks without evidence at a common ε are not measured, not passed', () => {
  const s = status({ ...healthy, blackBox: [{ eps: 0.3, accuracy: 0, by: 'SQUARE' }], largeEps: null, zeroGradientShare: null, curves: [] });
  assert.equal(s['black-box'], 'not-measured');
  assert.equal(s['large-eps'], 'not-measured');
  assert.equal(s['zero-gradients'], 'not-measured');
  assert.equal(s['monotonic'], 'not-measured');
});

test('the large-ε and zero-gradient limits are the documented ones', () => {
  assert.equal(status({ ...healthy, largeEps: { eps: 1, accuracy: 0.01, by: 'PGD' } })['large-eps'], 'pass');
  assert.equal(status({ ...healthy, largeEps: { eps: 1, accuracy: 0.02, by: 'PGD' } })['large-eps'], 'flag');
  assert.equal(status({ ...healthy, zeroGradientShare: 0.02 })['zero-gradients'], 'flag');
});
