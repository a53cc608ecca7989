/**
 * Facts the file's root attributes give about how it was written.
 */
import { stringAttr, type H5Group } from './hdf5-tree.js';

export interface KerasProvenance {
  /** `keras_version` as written, or null (Keras 1 weights-only files do not record it). */
  readonly kerasVersion: string | null;
  /** 1 for Keras 1.x (or no version recorded), 2 otherwise. */
  readonly major: 1 | 2;
  /** `backend` as written (Keras ≥ 2 records it), or null. */
  readonly backend: string | null;
}

export function provenanceOf(root: H5Group): KerasProvenance {
  const weights = root.children.get('model_weights');
  const from = (name: string): string | null =>
    stringAttr(root, name) ?? (weights?.kind === 'group' ? stringAttr(weights, name) : undefined) ?? null;
  const kerasVersion = from('keras_version');
  return { kerasVersion, major: kerasVersion === null || kerasVersion.startsWith('1') ? 1 : 2, backend: from('backend') };
}
