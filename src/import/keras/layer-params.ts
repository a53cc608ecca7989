/**
 * Reading a layer's configuration, under Keras 1 and Keras 2 names (`subsample`/`strides`,
 * `border_mode`/`padding`, `dim_ordering` th|tf / `data_format`, `output_dim`/`units`, `bias`/`use_bias`, ...).
 * Every problem names the file and the layer.
 */
import { QrobustError } from '../../core/errors.js';
import type { Activation } from '../../graph/model-graph.js';
import type { DataFormat } from './layout.js';
import type { KerasLayerSpec } from './model-config.js';

export function unsupported(file: string, layer: KerasLayerSpec, why: string): QrobustError {
  return new QrobustError('unsupported_layer', `${file}: layer '${layer.name}' (${layer.className}): ${why}`);
}

/** The first of `keys` present in the config (Keras 2 name first, then Keras 1's). */
export function param(layer: KerasLayerSpec, ...keys: string[]): unknown {
  for (const k of keys) if (layer.config[k] !== undefined && layer.config[k] !== null) return layer.config[k];
  return undefined;
}

export function positiveInt(file: string, layer: KerasLayerSpec, value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw unsupported(file, layer, `${what} must be a positive integer, got ${JSON.stringify(value)}`);
}

/** An int or a pair of ints (kernel sizes, strides, dilations, pool sizes). */
export function pair(file: string, layer: KerasLayerSpec, value: unknown, what: string): [number, number] {
  if (typeof value === 'number') {
    const v = positiveInt(file, layer, value, what);
    return [v, v];
  }
  if (Array.isArray(value) && value.length === 2) return [positiveInt(file, layer, value[0], what), positiveInt(file, layer, value[1], what)];
  throw unsupported(file, layer, `${what} must be an integer or a pair, got ${JSON.stringify(value)}`);
}

export function boolParam(layer: KerasLayerSpec, fallback: boolean, ...keys: string[]): boolean {
  const v = param(layer, ...keys);
  return typeof v === 'boolean' ? v : fallback;
}

/** 'same' or 'valid' (`padding` in Keras 2, `border_mode` in Keras 1). */
export function paddingOf(file: string, layer: KerasLayerSpec): 'same' | 'valid' {
  const p = param(layer, 'padding', 'border_mode') ?? 'valid';
  if (p === 'same' || p === 'valid') return p;
  throw unsupported(file, layer, `padding '${String(p)}' is not supported (same, valid)`);
}

/** The layer's data format, or null when it does not say (Keras 1 `th` is channels-first, `tf` channels-last). */
export function dataFormatOf(layer: KerasLayerSpec): DataFormat | null {
  const f = param(layer, 'data_format', 'dim_ordering');
  if (f === 'channels_first' || f === 'th') return 'channels_first';
  if (f === 'channels_last' || f === 'tf') return 'channels_last';
  return null;
}

/**
 * A Keras activation name as a graph activation; `softmax` only where the caller allows it (the model's
 * output, where it is stripped: qrobust's networks end in logits).
 */
export function activationOf(file: string, layer: KerasLayerSpec, name: unknown, isOutput: boolean): { activation: Activation; strippedSoftmax: boolean } {
  const n = name ?? 'linear';
  switch (n) {
    case 'linear':
      return { activation: { kind: 'linear' }, strippedSoftmax: false };
    case 'relu':
      return { activation: { kind: 'relu' }, strippedSoftmax: false };
    case 'sigmoid':
      return { activation: { kind: 'sigmoid' }, strippedSoftmax: false };
    case 'tanh':
      return { activation: { kind: 'tanh' }, strippedSoftmax: false };
    case 'softmax':
      if (isOutput) return { activation: { kind: 'linear' }, strippedSoftmax: true };
      throw unsupported(file, layer, 'softmax is supported only as the last layer (where it is stripped to give logits)');
    default:
      throw unsupported(file, layer, `activation '${typeof n === 'string' ? n : JSON.stringify(n)}' is not supported (linear, relu, sigmoid, tanh, softmax as the last layer)`);
  }
}
