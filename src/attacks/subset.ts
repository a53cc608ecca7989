/**
 * Running an attack on part of a batch: the ensembles (APGD-T's target classes, `auto`'s members) attack only
 * the samples that are still robust, then write the results back into the full batch.
 */
import { tf } from '../backend/tf.js';
import type { AttackResult } from './types.js';

/** Positions where `mask` is 0, i.e. the samples not yet adversarial. */
export function remaining(mask: Uint8Array): Int32Array {
  const out: number[] = [];
  mask.forEach((m, i) => {
    if (!m) out.push(i);
  });
  return Int32Array.from(out);
}

/** The entries of `values` at `indices`. */
export function pick<T extends Int32Array | Uint8Array>(values: T, indices: Int32Array): T {
  const out = new (values.constructor as new (n: number) => T)(indices.length);
  indices.forEach((k, i) => (out[i] = values[k]!));
  return out;
}

/**
 * `full` with sample `indices[j]` replaced by `part[j]` wherever `take[j]` is 1. Returns a new tensor; the
 * arguments are not disposed.
 */
export function scatterSamples(full: tf.Tensor4D, part: tf.Tensor4D, indices: Int32Array, take: Uint8Array): tf.Tensor4D {
  const n = full.shape[0];
  const source = Int32Array.from({ length: n }, (_, i) => i);
  indices.forEach((k, j) => {
    if (take[j]) source[k] = n + j;
  });
  return tf.tidy(() => tf.gather(tf.concat([full, part], 0), tf.tensor1d(source, 'int32')) as tf.Tensor4D);
}

/** Mutable per-sample state of an attack built from sub-attacks: the current points, success and queries. */
export class BatchRecord {
  adversarial: tf.Tensor4D;
  readonly success: Uint8Array;
  readonly queries: Int32Array;

  constructor(x: tf.Tensor4D, success: Uint8Array, queries: Int32Array) {
    this.adversarial = x.clone();
    this.success = success;
    this.queries = queries;
  }

  /**
   * Merges the result of an attack run on the samples at `indices`: every sample's queries grow by what it
   * spent; a sample's point is replaced where `take[j]` is 1 (by default where the run succeeded).
   * Disposes `part.adversarial`.
   */
  merge(indices: Int32Array, part: AttackResult, take: Uint8Array = part.success): void {
    indices.forEach((k, j) => {
      this.queries[k]! += part.queries[j]!;
      if (part.success[j]) this.success[k] = 1;
    });
    const next = scatterSamples(this.adversarial, part.adversarial, indices, take);
    tf.dispose([this.adversarial, part.adversarial]);
    this.adversarial = next;
  }
}
