/**
 * Every weight, bias, scale and constant of a model graph must be finite: bound propagation would silently skip
 * a NaN, and an infinite weight makes every bound infinite or NaN.
 */
import { QrobustError } from '../core/errors.js';
import type { GraphNode, ModelGraph } from '../graph/model-graph.js';

/** The named parameter arrays of a node. */
function parametersOf(node: GraphNode): [string, ArrayLike<number>][] {
  const op = node.op;
  switch (op.kind) {
    case 'dense':
    case 'conv2d':
      return [['weight', op.kernel], ['bias', op.bias]];
    case 'channelAffine':
      return [['scale', op.scale], ['offset', op.offset]];
    case 'pad':
      return [['padding value', [op.value]]];
    default:
      return [];
  }
}

/** @throws QrobustError('invalid_model') naming the source, the node, the parameter and its value. */
export function checkFiniteParameters(graph: ModelGraph, source: string): void {
  for (const node of graph.nodes) {
    for (const [what, values] of parametersOf(node)) {
      for (let k = 0; k < values.length; k++) {
        const v = values[k]!;
        if (!Number.isFinite(v)) throw new QrobustError('invalid_model', `${source}: node '${node.name}' has a ${what} of ${v} (entry ${k}); a network's parameters must be finite`);
      }
    }
  }
}
