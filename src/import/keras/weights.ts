/**
 * The weights of a Keras HDF5 file, per layer, in the file's layer order. Keras writes a group with the
 * attribute `layer_names` (the root of a weights-only file, `model_weights` of a full-model file); each layer's
 * group lists its datasets in the attribute `weight_names`, paths relative to that group. Keras 1 names them
 * `<layer>_W`, `<layer>_b`, ...; Keras 2 `kernel:0`, `bias:0`, ..., possibly below scopes of a subclassed model.
 */
import { QrobustError } from '../../core/errors.js';
import { nodeAt, stringListAttr, type H5Group } from './hdf5-tree.js';

/** What a weight is, in Keras 2's vocabulary (Keras 1's `W`, `b`, `running_std` mapped onto it). */
export type WeightRole = 'kernel' | 'depthwise_kernel' | 'bias' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance';

export interface KerasWeight {
  /** The name as the file lists it. */
  readonly name: string;
  readonly role: WeightRole | null;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface LayerWeights {
  readonly layer: string;
  readonly weights: readonly KerasWeight[];
}

/** Keras 1.x stored the moving variance of BatchNormalization under the name `running_std`. */
const ROLE_BY_SUFFIX: Readonly<Record<string, WeightRole>> = {
  kernel: 'kernel',
  W: 'kernel',
  depthwise_kernel: 'depthwise_kernel',
  bias: 'bias',
  b: 'bias',
  gamma: 'gamma',
  beta: 'beta',
  moving_mean: 'moving_mean',
  running_mean: 'moving_mean',
  moving_variance: 'moving_variance',
  running_std: 'moving_variance',
};

/** The role a weight name gives: its last path part without `:0`, and for Keras 1 without `<layer>_`. */
export function weightRole(layer: string, name: string): WeightRole | null {
  const last = (name.split('/').pop() ?? name).replace(/:\d+$/, '');
  const direct = ROLE_BY_SUFFIX[last];
  if (direct) return direct;
  if (last.startsWith(`${layer}_`)) return ROLE_BY_SUFFIX[last.slice(layer.length + 1)] ?? null;
  return null;
}

/** The group that holds the weights: `model_weights` in a full-model file, else the root. */
export function weightsGroup(root: H5Group): H5Group {
  const mw = root.children.get('model_weights');
  return mw?.kind === 'group' ? mw : root;
}

/**
 * Every layer listed in `layer_names`, with its weights (possibly none), in file order.
 * @throws QrobustError('invalid_model') when the file has no `layer_names` or names a missing dataset.
 */
export function readLayerWeights(file: string, group: H5Group): LayerWeights[] {
  const names = stringListAttr(group, 'layer_names');
  if (!names) throw new QrobustError('invalid_model', `${file}: an HDF5 file without Keras's 'layer_names' attribute: not a Keras weights file`);
  return names.map((layer) => {
    const lg = group.children.get(layer);
    if (lg?.kind !== 'group') throw new QrobustError('invalid_model', `${file}: layer '${layer}' is listed in layer_names but has no group`);
    const weightNames = stringListAttr(lg, 'weight_names') ?? [];
    const weights = weightNames.map((name): KerasWeight => {
      const ds = nodeAt(lg, name);
      if (ds?.kind !== 'dataset') throw new QrobustError('invalid_model', `${file}: layer '${layer}' lists weight '${name}' but the file has no such dataset`);
      return { name, role: weightRole(layer, name), shape: ds.shape, data: ds.data };
    });
    return { layer, weights };
  });
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
