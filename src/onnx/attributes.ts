/** Typed access to an ONNX node's attributes, with errors that name the node, its operator and the attribute. */
import { QrobustError } from '../core/errors.js';
import type { OnnxAttribute, OnnxNode, OnnxTensor } from './model.js';

/** How a node is named in messages: `'name' (OpType)`, or its first output when it has no name. */
export function describeNode(node: OnnxNode): string {
  return `node '${node.name || node.outputs[0] || '?'}' (${node.opType})`;
}

export class NodeAttributes {
  constructor(
    private readonly node: OnnxNode,
    private readonly source: string,
  ) {}

  private find(name: string): OnnxAttribute | undefined {
    return this.node.attributes.find((a) => a.name === name);
  }

  fail(problem: string): never {
    throw new QrobustError('unsupported_layer', `${this.source}: ${describeNode(this.node)}: ${problem}`);
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  int(name: string, fallback: number): number {
    const a = this.find(name);
    if (!a) return fallback;
    if (a.type !== 'int') this.fail(`attribute '${name}' is ${a.type}, expected int`);
    return a.value;
  }

  float(name: string, fallback: number): number {
    const a = this.find(name);
    if (!a) return fallback;
    if (a.type !== 'float') this.fail(`attribute '${name}' is ${a.type}, expected float`);
    return a.value;
  }

  ints(name: string, fallback: readonly number[] | null): readonly number[] | null {
    const a = this.find(name);
    if (!a) return fallback;
    if (a.type !== 'ints') this.fail(`attribute '${name}' is ${a.type}, expected ints`);
    return a.value;
  }

  floats(name: string): readonly number[] | null {
    const a = this.find(name);
    if (!a) return null;
    if (a.type !== 'floats') this.fail(`attribute '${name}' is ${a.type}, expected floats`);
    return a.value;
  }

  string(name: string, fallback: string): string {
    const a = this.find(name);
    if (!a) return fallback;
    if (a.type !== 'string') this.fail(`attribute '${name}' is ${a.type}, expected string`);
    return a.value;
  }

  tensor(name: string): OnnxTensor | null {
    const a = this.find(name);
    if (!a) return null;
    if (a.type !== 'tensor') this.fail(`attribute '${name}' is ${a.type}, expected tensor`);
    return a.value;
  }
}
