/**
 * The `ModelGraph` under construction: nodes appended in topological order with unique names, ops that may be
 * replaced while nothing else reads them (folding a batch norm or a constant scale into the conv before it),
 * and a final pass that keeps only the nodes the output depends on.
 */
import { MODEL_INPUT, type GraphNode, type GraphOp, type ModelGraph } from '../../graph/model-graph.js';

interface MutableNode {
  readonly name: string;
  op: GraphOp;
  readonly inputs: readonly string[];
}

export class GraphWriter {
  private readonly nodes: MutableNode[] = [];
  private readonly byName = new Map<string, MutableNode>();
  private readonly used = new Set<string>([MODEL_INPUT]);

  /** Appends a node named after `rawName` (made unique) and returns its name. */
  add(rawName: string, op: GraphOp, inputs: readonly string[]): string {
    const base = rawName || op.kind;
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    const node: MutableNode = { name, op, inputs: [...inputs] };
    this.nodes.push(node);
    this.byName.set(name, node);
    return name;
  }

  /** The op of a node, or null for the graph input. */
  opOf(name: string): GraphOp | null {
    return this.byName.get(name)?.op ?? null;
  }

  inputsOf(name: string): readonly string[] {
    return this.byName.get(name)?.inputs ?? [];
  }

  /** Replaces the op of an existing node (the caller checks that nothing else has read its old value). */
  replaceOp(name: string, op: GraphOp): void {
    const node = this.byName.get(name);
    if (!node) throw new Error(`GraphWriter: no node '${name}'`);
    node.op = op;
  }

  /** The graph whose output is `output`, with the nodes it does not depend on left out. */
  finish(inputShape: readonly [number, number, number], output: string): ModelGraph {
    const live = new Set<string>([output]);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (live.has(n.name)) n.inputs.forEach((x) => live.add(x));
    }
    const nodes: GraphNode[] = this.nodes.filter((n) => live.has(n.name)).map((n) => ({ name: n.name, op: n.op, inputs: n.inputs }));
    return { inputShape: [...inputShape] as [number, number, number], nodes, output };
  }
}
