/** Shared helpers for the experiment tests: a tiny real config (MNIST, mlp-tiny) and record comparison. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, RESULTS_FILE, type ResultRecord } from '../../src/experiments/results-file.js';

/**
 * A small experiment that still exercises every task kind: a trained mlp-tiny (the slowest task, about two
 * seconds), an 8-bit and a 4-bit variant, FGSM and PGD with both gradient modes, transfer, compare and the
 * diagnostics, on 24 test images.
 */
export function tinyConfig(): Record<string, unknown> {
  return {
    name: 'tiny',
    seed: 3,
    data: { n: 24, examples: 2 },
    models: [{ name: 'mlp', train: { dataset: 'mnist', arch: 'mlp-tiny', epochs: 3, n: 1024, batchSize: 64 } }],
    quantize: [
      { name: 'w8', spec: { weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }, calibrationN: 64 },
      { name: 'w4', spec: { weights: { bits: 4, granularity: 'per-channel' } } },
    ],
    attacks: [
      { attack: 'fgsm', eps: [0.05, 0.1] },
      { attack: 'pgd', eps: [0.05, 0.1], steps: 3, grad: ['exact', 'ste'], integerCheck: true },
    ],
    transfer: [{ attack: 'pgd', eps: [0.1], steps: 3 }],
    compare: { eps: 0.1, n: 12 },
    diagnostics: { n: 12, largeEps: { attack: 'pgd', eps: 1, steps: 3 } },
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `qrobust-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeConfig(dir: string, config: unknown, name = 'experiment.config.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** The parts of a record that must not depend on how the run went (timing, shard, date): id → those parts. */
export function comparable(records: readonly ResultRecord[]): Map<string, unknown> {
  return new Map(records.map((r) => [r.id, { kind: r.kind, label: r.label, config: r.config, seed: r.seed, inputs: r.inputs, versions: r.versions, result: r.result }]));
}

export async function recordsOf(dir: string): Promise<ResultRecord[]> {
  return (await readResults(join(dir, RESULTS_FILE))).records;
}
