/** Loading a task's models as classifiers and its test slice as tensors, with the checks every task needs. */
import { QrobustError } from '../../core/errors.js';
import { toTensors, type ImageDataset } from '../../data/index.js';
import type { tf } from '../../backend/tf.js';
import type { Classifier } from '../../models/classifier.js';
import { loadClassifier, type LoadedClassifier } from '../../quant/load-classifier.js';
import type { GradMode } from '../config.js';

/** A model directory as a classifier that fits the slice: fake-quant with `grad` for a quantized model. */
export async function openClassifier(dir: string, ds: ImageDataset, grad: GradMode | null = null): Promise<LoadedClassifier> {
  const loaded = await loadClassifier(dir, grad ? { gradient: grad } : {});
  if (JSON.stringify(loaded.meta.inputShape) !== JSON.stringify(ds.shape)) {
    loaded.classifier.dispose();
    throw new QrobustError('shape_mismatch', `${dir} takes inputs of shape [${loaded.meta.inputShape.join(',')}] but ${ds.name} images are [${ds.shape.join(',')}]`);
  }
  return loaded;
}

/** The integer-exact classifier of a quantized directory, or null when the model has no integer form. */
export async function openIntegerClassifier(dir: string): Promise<Classifier | null> {
  try {
    return (await loadClassifier(dir, { integer: true })).classifier;
  } catch (e) {
    if (e instanceof QrobustError && e.code === 'not_integer_executable') return null;
    throw e;
  }
}

/** The whole slice as one input tensor (the caller disposes it) and its labels. */
export function sliceTensors(ds: ImageDataset): { x: tf.Tensor4D; labels: Int32Array } {
  const { x, y } = toTensors(ds);
  const labels = Int32Array.from(y.dataSync());
  y.dispose();
  return { x, labels };
}
