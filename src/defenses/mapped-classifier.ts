/**
 * A classifier behind a fixed input transform (Song et al.'s non-linear mapping, `nonlinear-map.ts`): logits are
 * those of the inner classifier on m(x). With the `exact` map gradient the classifier's gradient mode is the
 * inner one's (the transform's own derivative, near zero on its plateaus, is part of it); with `bpda` it is `ste`,
 * the straight-through estimate that adaptive attacks use.
 */
import { tf } from '../backend/tf.js';
import type { Classifier, GradientMode } from '../models/classifier.js';
import { applyNonlinearMap, describeNonlinearMap, type MapGradient, type NonlinearMapRecord } from './nonlinear-map.js';

export class MappedClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly bounds: readonly [number, number];
  readonly gradientMode: GradientMode;
  readonly description: string;

  /** Owns `inner` (disposing this disposes it). */
  constructor(
    readonly inner: Classifier,
    readonly map: NonlinearMapRecord,
    readonly mapGradient: MapGradient = 'exact',
  ) {
    this.inputShape = inner.inputShape;
    this.numClasses = inner.numClasses;
    this.bounds = inner.bounds;
    this.gradientMode = inner.gradientMode === 'none' ? 'none' : mapGradient === 'bpda' ? 'ste' : inner.gradientMode;
    this.description = `${inner.description} behind a ${describeNonlinearMap(map)} (${mapGradient === 'bpda' ? 'BPDA' : 'exact'} gradient)`;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.inner.logits(applyNonlinearMap(x, this.map, this.mapGradient)));
  }

  dispose(): void {
    this.inner.dispose();
  }
}
