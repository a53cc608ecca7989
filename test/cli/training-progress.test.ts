import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingProgress } from '../../src/cli/training-progress.js';

test('training progress off a terminal: no bar, one line per finished epoch', () => {
  const written: string[] = [];
  const progress = new TrainingProgress({ isTTY: false, write: (s) => (written.push(s), true) }, 'train');
  progress.start(2, 10);
  progress.onStep({ epoch: 0, epochs: 2, step: 3, stepsPerEpoch: 10, loss: 0.5, accuracy: 0.8, imagesPerSecond: 900, learningRate: 1e-3 });
  progress.onEpoch({ epoch: 0, loss: 0.41234, accuracy: 0.91, seconds: 1.25 });
  assert.deepEqual(written, ['epoch 1: loss 0.4123, train accuracy 91.00%, 1.3 s\n']);
});
