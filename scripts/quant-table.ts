/**
 * The quantization accuracy table (issue 3): for each full-precision model directory given, test accuracy of
 * post-training (PTQ) and quantization-aware (QAT) variants at 8, 6, 4, 3, 2 bits and binary, weights only and
 * weights + activations, on the fake-quant path and, where the model is integer-executable, on the integer path.
 *
 *   node dist/scripts/quant-table.js --out runs/quant-table [--bits 8,6,4,3,2,1] [--qat-epochs 1] [--qat-n N]
 *        [--qat-max-bits B] [--eval-n N] [--seed 0] [--no-qat] MODEL_DIR...
 *
 * Weights: symmetric per-channel (binary: sign times a per-channel mean |w|, XNOR-Net style). Weights +
 * activations: the activations get the same width as the weights (affine, min-max calibration on 1,000 training
 * images) and the input 8 bits; binary weights are paired with 2-bit activations (a 1-bit ReLU output cannot
 * distinguish "off" from "small"). Every variant is written under --out, `table.json` records every number with
 * the seed, versions and options, and `table.md` is the table for docs/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { initBackend } from '../src/backend/backend.js';
import { versions } from '../src/core/versions.js';
import { loadModel } from '../src/models/io.js';
import { quantizeDir, type QuantizedVariant } from '../src/workflows/quantize-model.js';
import { makeQuantSpec, type QuantSpec } from '../src/quant/spec.js';

interface Row {
  readonly model: string;
  readonly dataset: string;
  readonly arch: string;
  readonly fp32: number | null;
  readonly variant: string;
  readonly weightBits: number;
  readonly activationBits: number | null;
  readonly method: 'PTQ' | 'QAT';
  readonly fakeQuant: number | null;
  readonly integer: number | null;
  readonly agreement: number | null;
  readonly evaluated: number | null;
  readonly testVariant: string | null;
  readonly seconds: number;
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
}

function flag(argv: string[], name: string): boolean {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}

function specFor(bits: number, withActivations: boolean): QuantSpec {
  const binary = bits === 1;
  return makeQuantSpec({
    weights: { bits, kind: binary ? 'binary' : 'uniform', scheme: 'symmetric', granularity: 'per-channel' },
    activations: withActivations ? { bits: binary ? 2 : bits, scheme: 'affine', calibration: { method: 'minmax' } } : null,
    inputs: withActivations ? { bits: 8 } : null,
  });
}

function rowOf(model: string, meta: { dataset: string; arch: string }, fp32: number | null, v: QuantizedVariant, method: 'PTQ' | 'QAT', spec: QuantSpec): Row {
  const fq = v.fakeQuant;
  return {
    model,
    dataset: meta.dataset,
    arch: meta.arch,
    fp32,
    variant: v.label,
    weightBits: spec.weights?.bits === 'float16' ? 16 : (spec.weights?.bits ?? 32),
    activationBits: spec.activations?.bits ?? null,
    method,
    fakeQuant: fq?.accuracy ?? null,
    integer: v.integer?.accuracy ?? null,
    agreement: v.agreement ?? null,
    evaluated: fq?.n ?? null,
    testVariant: fq?.variant ?? null,
    seconds: v.seconds,
  };
}

const pct = (a: number | null): string => (a === null ? '—' : (a * 100).toFixed(2));

function markdown(rows: readonly Row[]): string {
  const out: string[] = [];
  const models = [...new Set(rows.map((r) => r.model))];
  for (const m of models) {
    const mine = rows.filter((r) => r.model === m);
    const first = mine[0]!;
    out.push(`### ${first.dataset} \`${first.arch}\` (FP32 ${pct(first.fp32)}%, ${first.evaluated ?? '?'} test images${first.testVariant ? `, ${first.testVariant}` : ''})`, '');
    out.push('| weights | activations | PTQ fake-quant | PTQ integer | QAT fake-quant | QAT integer |', '|---|---|---|---|---|---|');
    const keys = [...new Set(mine.map((r) => `${r.weightBits}|${r.activationBits ?? 'float'}`))];
    for (const k of keys) {
      const [w, a] = k.split('|');
      const ptq = mine.find((r) => `${r.weightBits}|${r.activationBits ?? 'float'}` === k && r.method === 'PTQ');
      const qat = mine.find((r) => `${r.weightBits}|${r.activationBits ?? 'float'}` === k && r.method === 'QAT');
      const wl = w === '1' ? 'binary' : `${w}-bit`;
      const al = a === 'float' ? 'float' : `${a}-bit`;
      out.push(`| ${wl} | ${al} | ${pct(ptq?.fakeQuant ?? null)} | ${pct(ptq?.integer ?? null)} | ${pct(qat?.fakeQuant ?? null)} | ${pct(qat?.integer ?? null)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const out = arg(argv, 'out') ?? 'runs/quant-table';
  const bits = (arg(argv, 'bits') ?? '8,6,4,3,2,1').split(',').map(Number);
  const qatEpochs = Number(arg(argv, 'qat-epochs') ?? '1');
  const qatN = arg(argv, 'qat-n');
  const evalN = arg(argv, 'eval-n');
  const seed = Number(arg(argv, 'seed') ?? '0');
  const noQat = flag(argv, 'no-qat');
  const qatMaxBits = Number(arg(argv, 'qat-max-bits') ?? '8');
  const dirs = argv;
  if (dirs.length === 0) throw new Error('quant-table: give at least one full-precision model directory');
  await initBackend();
  await mkdir(out, { recursive: true });
  const rows: Row[] = [];
  const started = Date.now();
  for (const dir of dirs) {
    const { meta } = await loadModel(dir);
    const fp32 = meta.testAccuracy?.accuracy ?? null;
    const name = basename(dir);
    for (const withAct of [false, true]) {
      const specs = bits.map((b) => specFor(b, withAct));
      const tag = withAct ? 'wa' : 'w';
      const common = { dir, seed, ...(evalN ? { evalN: Number(evalN) } : {}) };
      const ptq = await quantizeDir({ ...common, specs, out: join(out, name, `ptq-${tag}`) });
      ptq.variants.forEach((v, i) => rows.push(rowOf(name, meta, fp32, v, 'PTQ', specs[i]!)));
      process.stderr.write(`${name} PTQ ${tag}: ${ptq.variants.map((v) => `${v.label} ${pct(v.fakeQuant?.accuracy ?? null)}`).join(', ')}\n`);
      if (noQat || qatEpochs <= 0) continue;
      const qatSpecs = specs.filter((s) => (s.weights?.bits as number) <= qatMaxBits);
      if (qatSpecs.length === 0) continue;
      const qat = await quantizeDir({
        ...common,
        specs: qatSpecs,
        out: join(out, name, `qat-${tag}`),
        qat: { epochs: qatEpochs, ...(qatN ? { n: Number(qatN) } : {}) },
      });
      qat.variants.forEach((v, i) => rows.push(rowOf(name, meta, fp32, v, 'QAT', qatSpecs[i]!)));
      process.stderr.write(`${name} QAT ${tag}: ${qat.variants.map((v) => `${v.label} ${pct(v.fakeQuant?.accuracy ?? null)}`).join(', ')}\n`);
    }
  }
  const record = {
    tool: 'qrobust quant-table',
    options: { bits, qatEpochs: noQat ? 0 : qatEpochs, qatN: qatN ? Number(qatN) : null, evalN: evalN ? Number(evalN) : null, seed, qatMaxBits: qatMaxBits, models: dirs.map((d) => basename(d)) },
    versions: versions(),
    seconds: (Date.now() - started) / 1000,
    rows,
  };
  await writeFile(join(out, 'table.json'), JSON.stringify(record, null, 2) + '\n');
  await writeFile(join(out, 'table.md'), markdown(rows));
  process.stdout.write(markdown(rows) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`quant-table: ${(e as Error).message}\n`);
  process.exit(1);
});
