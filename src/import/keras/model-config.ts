/**
 * The `model_config` attribute of a full-model Keras file (JSON), normalized to one list of layers with their
 * inputs, for the shapes Keras 1 and Keras 2 write:
 * - Sequential: `config` is the layer list (Keras 1, Keras 2.0-2.1) or `{ name, layers }` (later); each layer
 *   feeds the next, the first takes the model input (`batch_input_shape` in its config or an InputLayer);
 * - functional (`Model` / `Functional`): `config.layers[i].inbound_nodes` is `[[ [name, node, tensor, kwargs], ...]]`,
 *   with `input_layers` and `output_layers` naming the ends.
 */
import { QrobustError } from '../../core/errors.js';

export type LayerConfig = Readonly<Record<string, unknown>>;

export interface KerasLayerSpec {
  readonly name: string;
  readonly className: string;
  readonly config: LayerConfig;
  /** Names of the layers whose outputs it takes; empty for the input layer. */
  readonly inbound: readonly string[];
}

export interface KerasModelSpec {
  readonly modelClass: string;
  /** Topologically ordered, as Keras writes them. */
  readonly layers: readonly KerasLayerSpec[];
  /** The per-example input shape (batch dimension dropped). */
  readonly inputShape: readonly number[];
  /** The layer whose output is the model's output. */
  readonly output: string;
  /** The input layer's name, or null for a Sequential model without an InputLayer. */
  readonly inputLayer: string | null;
}

function invalid(file: string, why: string): QrobustError {
  return new QrobustError('invalid_model', `${file}: model_config: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function layerBasics(file: string, raw: unknown, i: number): { name: string; className: string; config: LayerConfig } {
  if (!isRecord(raw) || typeof raw['class_name'] !== 'string' || !isRecord(raw['config'])) throw invalid(file, `layer ${i} has no class_name/config`);
  const config = raw['config'];
  const name = typeof raw['name'] === 'string' ? raw['name'] : config['name'];
  if (typeof name !== 'string') throw invalid(file, `layer ${i} (${raw['class_name']}) has no name`);
  return { name, className: raw['class_name'], config };
}

/** `batch_input_shape` (Keras 1/2) or `batch_shape` (Keras 3) without the batch dimension. */
function inputShapeOf(config: LayerConfig): number[] | null {
  const s = config['batch_input_shape'] ?? config['batch_shape'];
  if (!Array.isArray(s) || s.length < 2 || !s.slice(1).every((d) => typeof d === 'number' && d > 0)) return null;
  return s.slice(1) as number[];
}

function sequential(file: string, modelClass: string, config: unknown): KerasModelSpec {
  const list = Array.isArray(config) ? config : isRecord(config) ? config['layers'] : undefined;
  if (!Array.isArray(list) || list.length === 0) throw invalid(file, 'of a Sequential model has no layers');
  const basics = list.map((raw, i) => layerBasics(file, raw, i));
  const first = basics[0]!;
  const inputShape = inputShapeOf(first.config);
  if (!inputShape) throw invalid(file, `the first layer '${first.name}' has no batch_input_shape`);
  const hasInputLayer = first.className === 'InputLayer';
  const layers = basics.map((b, i): KerasLayerSpec => ({ ...b, inbound: i === 0 ? [] : [basics[i - 1]!.name] }));
  // Without an InputLayer the first real layer takes the model input directly.
  return { modelClass, layers, inputShape, output: basics[basics.length - 1]!.name, inputLayer: hasInputLayer ? first.name : null };
}

/** The layer names of Keras's inbound node list `[[ [name, node, tensor, kwargs?], ... ]]`. */
function inboundOf(file: string, name: string, raw: unknown): string[] {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) return [];
  if (!Array.isArray(raw)) throw invalid(file, `layer '${name}' has inbound_nodes in a form qrobust does not read`);
  if (raw.length > 1) throw new QrobustError('unsupported_layer', `${file}: layer '${name}' is applied ${raw.length} times (shared layers are not supported)`);
  const node = raw[0];
  if (!Array.isArray(node)) throw invalid(file, `layer '${name}' has inbound_nodes in a form qrobust does not read (Keras 3?)`);
  return node.map((t: unknown) => {
    if (!Array.isArray(t) || typeof t[0] !== 'string') throw invalid(file, `layer '${name}' has an inbound tensor qrobust does not read`);
    if (t[1] !== 0 && t[1] !== undefined) throw new QrobustError('unsupported_layer', `${file}: layer '${name}' takes node ${t[1]} of '${t[0]}' (shared layers are not supported)`);
    return t[0];
  });
}

/** `[[name, 0, 0]]` or `[name, 0, 0]` → names. */
function endsOf(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  if (typeof raw[0] === 'string') return [raw[0]];
  return raw.filter((e): e is unknown[] => Array.isArray(e) && typeof e[0] === 'string').map((e) => e[0] as string);
}

function functional(file: string, modelClass: string, config: unknown): KerasModelSpec {
  if (!isRecord(config) || !Array.isArray(config['layers'])) throw invalid(file, `of a ${modelClass} model has no layers`);
  const layers = (config['layers'] as unknown[]).map((raw, i): KerasLayerSpec => {
    const b = layerBasics(file, raw, i);
    return { ...b, inbound: inboundOf(file, b.name, (raw as Record<string, unknown>)['inbound_nodes']) };
  });
  const inputs = endsOf(config['input_layers']);
  const outputs = endsOf(config['output_layers']);
  if (inputs.length !== 1) throw new QrobustError('unsupported_layer', `${file}: the model has ${inputs.length} inputs (only one image input is supported)`);
  if (outputs.length !== 1) throw new QrobustError('unsupported_layer', `${file}: the model has ${outputs.length} outputs (only one is supported)`);
  const input = layers.find((l) => l.name === inputs[0]);
  const inputShape = input ? inputShapeOf(input.config) : null;
  if (!input || !inputShape) throw invalid(file, `input layer '${inputs[0]}' has no batch_input_shape`);
  return { modelClass, layers, inputShape, output: outputs[0]!, inputLayer: input.name };
}

/**
 * Parses `model_config`.
 * @throws QrobustError('invalid_model') for JSON that is not a Keras model config, 'unsupported_layer' for
 *   shared layers, several inputs or outputs.
 */
export function parseModelConfig(file: string, json: string): KerasModelSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw invalid(file, `is not JSON (${(e as Error).message})`);
  }
  if (!isRecord(parsed) || typeof parsed['class_name'] !== 'string') throw invalid(file, 'has no class_name');
  const modelClass = parsed['class_name'];
  if (modelClass === 'Sequential') return sequential(file, modelClass, parsed['config']);
  if (modelClass === 'Model' || modelClass === 'Functional') return functional(file, modelClass, parsed['config']);
  throw new QrobustError('unsupported_layer', `${file}: model class '${modelClass}' is not supported (Sequential, Model, Functional)`);
}
