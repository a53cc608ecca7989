/**
 * Entry point of a replica worker thread. It initialises its own TF.js backend (the same one as the main thread,
 * with the same fast-kernel setting), rebuilds the model from its topology and weights, and then answers shard
 * requests one at a time, in arrival order.
 */
import { parentPort } from 'node:worker_threads';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../tf.js';
import { initBackend } from '../backend.js';
// Registers the custom layer every zoo model starts with, so that deserialisation finds it.
import '../../models/normalize-layer.js';
import type { Envelope, InitResult, InputGradientResult, Reply, Request, TransformResult, WeightGradientsResult } from './protocol.js';
import {
  inputGradientTensors,
  ownedData,
  packBatchNormState,
  packTensors,
  sameLayout,
  setWeightsFromFlat,
  weightGradientTensors,
  weightLayout,
  type WeightLayout,
} from './replica.js';
import { isInputLossName } from './losses.js';
import { shardTransform } from './shard-tasks.js';

interface Replica {
  readonly model: tfl.LayersModel;
  readonly layout: WeightLayout;
  readonly vars: tf.Variable[];
}

let replica: Replica | undefined;

function need(): Replica {
  if (!replica) throw new Error('the replica is not initialised');
  return replica;
}

function checkInput(x: Float32Array, shape: readonly number[], labels: Int32Array): void {
  const n = shape[0] ?? 0;
  let size = 1;
  for (const d of shape) size *= d;
  if (size !== x.length) throw new Error(`input has ${x.length} values, shape [${shape.join(', ')}] needs ${size}`);
  if (labels.length !== n) throw new Error(`got ${labels.length} labels for ${n} inputs`);
}

async function init(req: Extract<Request, { op: 'init' }>): Promise<InitResult> {
  const info = await initBackend(req.backend, { fastKernels: req.fastKernels });
  for (const m of req.modules) await import(m);
  if (replica) {
    replica.model.dispose();
    replica = undefined;
  }
  const model = (await tfl.models.modelFromJSON({ modelTopology: req.topology as tf.io.ModelJSON['modelTopology'] })) as tfl.LayersModel;
  const layout = weightLayout(model);
  if (!sameLayout(layout, req.layout)) {
    model.dispose();
    throw new Error('the rebuilt model does not have the same weights as the original');
  }
  setWeightsFromFlat(model, req.weights);
  replica = { model, layout, vars: model.trainableWeights.map((w) => w.read() as tf.Variable) };
  return { backend: info.name, fastKernels: info.fastKernels };
}

function inputGradient(req: Extract<Request, { op: 'inputGradient' }>): InputGradientResult {
  const t0 = performance.now();
  const r = need();
  if (!isInputLossName(req.loss)) throw new Error(`unknown loss '${String(req.loss)}'`);
  checkInput(req.x, req.shape, req.labels);
  if (req.weights) setWeightsFromFlat(r.model, req.weights);
  const x = tf.tensor(req.x, req.shape as number[], 'float32');
  const labels = tf.tensor1d(req.labels, 'int32');
  const out = inputGradientTensors(r.model, x, labels, req.loss);
  try {
    return {
      grad: ownedData(out.grad),
      loss: ownedData(out.loss),
      logits: ownedData(out.logits),
      ms: performance.now() - t0,
    };
  } finally {
    tf.dispose([x, labels, out.grad, out.loss, out.logits]);
  }
}

function weightGradients(req: Extract<Request, { op: 'weightGradients' }>): WeightGradientsResult {
  const t0 = performance.now();
  const r = need();
  checkInput(req.x, req.shape, req.labels);
  if (req.weights) setWeightsFromFlat(r.model, req.weights);
  const x = tf.tensor(req.x, req.shape as number[], 'float32');
  const labels = tf.tensor1d(req.labels, 'int32');
  const companion = req.objective?.companion ? tf.tensor(req.objective.companion, req.shape as number[], 'float32') : null;
  let out;
  try {
    out = weightGradientTensors(
      r.model,
      r.vars,
      x,
      labels,
      req.scale,
      req.objective ? { loss: req.objective.loss, params: req.objective.params, companion } : undefined,
    );
  } catch (e) {
    tf.dispose(companion ? [x, labels, companion] : [x, labels]);
    throw e;
  }
  try {
    return {
      loss: out.loss.dataSync()[0]!,
      correct: out.correct.dataSync()[0]!,
      grads: packTensors(out.grads),
      batchNorm: packBatchNormState(r.model, r.layout),
      ms: performance.now() - t0,
    };
  } finally {
    tf.dispose([x, labels, out.loss, out.correct, ...out.grads, ...(companion ? [companion] : [])]);
  }
}

function transform(req: Extract<Request, { op: 'transform' }>): TransformResult {
  const t0 = performance.now();
  const r = need();
  checkInput(req.x, req.shape, req.labels);
  if (req.weights) setWeightsFromFlat(r.model, req.weights);
  const fn = shardTransform(req.name);
  const x = tf.tensor(req.x, req.shape as number[], 'float32');
  const labels = tf.tensor1d(req.labels, 'int32');
  try {
    const out = fn(r.model, x, labels, req.params, req.place);
    try {
      return { x: ownedData(out), ms: performance.now() - t0 };
    } finally {
      out.dispose();
    }
  } finally {
    tf.dispose([x, labels]);
  }
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'init':
      return init(req);
    case 'setWeights':
      setWeightsFromFlat(need().model, req.weights);
      return null;
    case 'inputGradient':
      return inputGradient(req);
    case 'weightGradients':
      return weightGradients(req);
    case 'transform':
      return transform(req);
    case 'ping':
      return null;
    default:
      throw new Error(`unknown request '${(req as { op?: unknown }).op}'`);
  }
}

/** The ArrayBuffers of the typed arrays in a result, so they move instead of being copied. */
function transferables(result: unknown): ArrayBuffer[] {
  if (result === null || typeof result !== 'object') return [];
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(result)) {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && !out.includes(v.buffer)) out.push(v.buffer);
  }
  return out;
}

const port = parentPort;
if (!port) throw new Error('qrobust parallel worker: this module must be started as a worker thread');

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: Envelope<Request>) => {
  queue = queue.then(async () => {
    let reply: Reply;
    let transfer: ArrayBuffer[] = [];
    try {
      const result = await handle(msg);
      reply = { id: msg.id, ok: true, result };
      transfer = transferables(result);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { id: msg.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack } };
    }
    port.postMessage(reply, transfer);
  });
});
