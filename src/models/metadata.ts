/**
 * `qrobust.json`: what a model directory says about itself. Every command that takes a model reads it; later
 * stages (quantization, attacks) add their own fields (a quantized model records its spec and parent).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QrobustError } from '../core/errors.js';

export const METADATA_FILE = 'qrobust.json';
export const METADATA_FORMAT = 'qrobust-model';
export const METADATA_VERSION = 1;

export interface TrainingRecord {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: string;
  readonly learningRate: number;
  readonly schedule: string;
  readonly augmentation: string;
  readonly trainCount: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly workers: number;
}

export interface EvaluationRecord {
  readonly split: 'train' | 'test';
  /** Which files the split came from, e.g. 'canonical' or 'test_batch_first1000'. */
  readonly variant: string;
  readonly n: number;
  readonly accuracy: number;
}

export interface ModelMetadata {
  readonly format: typeof METADATA_FORMAT;
  readonly version: number;
  readonly dataset: string;
  readonly arch: string;
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly preprocessing: {
    readonly inputRange: readonly [number, number];
    readonly mean: readonly number[];
    readonly std: readonly number[];
    readonly layout: 'NHWC';
  };
  readonly seed: number;
  readonly training?: TrainingRecord;
  readonly testAccuracy?: EvaluationRecord;
  readonly versions: Readonly<Record<string, string>>;
  readonly createdAt: string;
  /** Fields written by later stages (quantization spec, parent model, ...). */
  readonly [extra: string]: unknown;
}

export async function writeMetadata(dir: string, meta: ModelMetadata): Promise<void> {
  await writeFile(join(dir, METADATA_FILE), JSON.stringify(meta, null, 2) + '\n');
}

export async function readMetadata(dir: string): Promise<ModelMetadata> {
  const path = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new QrobustError('not_a_model', `${dir} is not a qrobust model directory: ${METADATA_FILE} not found`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (e) {
    throw new QrobustError('not_a_model', `${path}: not valid JSON (${(e as Error).message})`);
  }
  const m = meta as Partial<ModelMetadata>;
  if (m.format !== METADATA_FORMAT) {
    throw new QrobustError('not_a_model', `${path}: expected "format": "${METADATA_FORMAT}", got ${JSON.stringify(m.format)}`);
  }
  for (const key of ['dataset', 'arch', 'inputShape', 'numClasses'] as const) {
    if (m[key] === undefined) throw new QrobustError('not_a_model', `${path}: missing field "${key}"`);
  }
  return m as ModelMetadata;
}
