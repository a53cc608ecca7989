/**
 * Worker threads and the process lifetime (a forgotten or explicit `close()` both let Node exit), the worker
 * count default, and `trainModel` on two threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { buildModel } from '../../src/models/zoo.js';
import { trainModel } from '../../src/models/train.js';
import { defaultWorkerCount, resolveWorkerCount } from '../../src/backend/parallel/index.js';
import { workerExecArgv } from '../../src/backend/parallel/pool.js';

const MNIST = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10, mean: [0.1307], std: [0.3081] };

/** Runs an ES module snippet in a fresh Node process; resolves with its exit code, or 'timeout'. */
function runNode(source: string, timeoutMs: number): Promise<{ code: number | 'timeout'; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'timeout', output });
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

function script(close: boolean): string {
  const url = (p: string): string => JSON.stringify(new URL(p, import.meta.url).href);
  return `
    const { initBackend } = await import(${url('../../src/backend/backend.js')});
    const { buildModel } = await import(${url('../../src/models/zoo.js')});
    const { DataParallel } = await import(${url('../../src/backend/parallel/index.js')});
    await initBackend('wasm');
    const model = buildModel('mlp-tiny', { inputShape: [28, 28, 1], numClasses: 10, mean: [0.13], std: [0.31] }, 0);
    const dp = await DataParallel.create(model, { workers: 2 });
    const out = await dp.inputGradient(new Float32Array(4 * 784).fill(0.5), [1, 2, 3, 4]);
    out.grad.dispose();
    ${close ? 'await dp.close();' : ''}
    console.log('done', dp.workers);
  `;
}

test('the process exits after close(), and also when close() is forgotten', async () => {
  const [closed, forgotten] = await Promise.all([runNode(script(true), 30_000), runNode(script(false), 30_000)]);
  assert.equal(closed.code, 0, closed.output);
  assert.match(closed.output, /done 2/);
  assert.equal(forgotten.code, 0, forgotten.output);
  assert.match(forgotten.output, /done 2/);
});

test('workers do not inherit the main script\'s input options or process-wide V8 options', () => {
  assert.deepEqual(workerExecArgv(['--input-type=module', '-e', 'code', '--max-old-space-size=512']), ['--max-old-space-size=512']);
  assert.deepEqual(workerExecArgv(['--input-type', 'module', '--print', 'x', '--enable-source-maps']), ['--enable-source-maps']);
  assert.deepEqual(workerExecArgv(['--no-concurrent-recompilation', '--conditions=x', '--stack-trace-limit=20']), ['--conditions=x', '--stack-trace-limit=20']);
});

test('worker count: QROBUST_WORKERS, explicit requests and the default', () => {
  const saved = process.env['QROBUST_WORKERS'];
  try {
    delete process.env['QROBUST_WORKERS'];
    const d = defaultWorkerCount('wasm');
    assert.ok(d >= 1 && d <= 2);
    assert.equal(defaultWorkerCount('node'), 1);
    process.env['QROBUST_WORKERS'] = '3';
    assert.equal(defaultWorkerCount('wasm'), 3);
    assert.equal(resolveWorkerCount(undefined, 'wasm'), 3);
    assert.equal(resolveWorkerCount(1, 'wasm'), 1);
    process.env['QROBUST_WORKERS'] = 'two';
    assert.throws(() => defaultWorkerCount('wasm'), /QROBUST_WORKERS must be a positive integer/);
    assert.throws(() => resolveWorkerCount(1.5), /workers must be a positive integer/);
  } finally {
    if (saved === undefined) delete process.env['QROBUST_WORKERS'];
    else process.env['QROBUST_WORKERS'] = saved;
  }
});

test('trainModel on two threads matches one thread and records the count', async () => {
  await initBackend('wasm');
  const rng = new Rng(4);
  const count = 80;
  const pixels = new Uint8Array(count * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  const labels = Uint8Array.from({ length: count }, () => rng.int(10));
  const data = { shape: [28, 28, 1] as const, count, pixels, labels };
  const tensorsBefore = tf.memory().numTensors;
  const reports = [];
  const weights: Float32Array[][] = [];
  for (const workers of [1, 2]) {
    const model = buildModel('cnn-small', MNIST, 11);
    reports.push(await trainModel(model, data, { epochs: 2, seed: 1, batchSize: 32, learningRate: 1e-3, workers }));
    weights.push(model.weights.map((w) => w.read().dataSync() as Float32Array));
    model.dispose();
  }
  assert.deepEqual(
    reports.map((r) => r.workers),
    [1, 2],
  );
  for (let e = 0; e < 2; e++) {
    assert.ok(Math.abs(reports[0]!.epochs[e]!.loss - reports[1]!.epochs[e]!.loss) < 1e-4);
    assert.equal(reports[0]!.epochs[e]!.accuracy, reports[1]!.epochs[e]!.accuracy);
  }
  for (let i = 0; i < weights[0]!.length; i++) {
    let m = 0;
    for (let j = 0; j < weights[0]![i]!.length; j++) m = Math.max(m, Math.abs(weights[0]![i]![j]! - weights[1]![i]![j]!));
    assert.ok(m < 1e-5, `weight ${i} differs by ${m}`);
  }
  // Left to choose, a tiny model keeps to the main thread (nothing to gain from a second one).
  if (!process.env['QROBUST_WORKERS']) {
    const tiny = buildModel('mlp-tiny', MNIST, 1);
    const report = await trainModel(tiny, data, { epochs: 1, seed: 1, batchSize: 32 });
    assert.equal(report.workers, 1);
    tiny.dispose();
  }
  assert.equal(tf.memory().numTensors, tensorsBefore);
});
