/**
 * The library function behind `qrobust verify DIR`: local robustness (L∞ ball of radius ε, clipped to the
 * pixel range) of a seeded subset of N test images, the same subset `qrobust attack` draws for the same seed,
 * so results of the two commands line up sample by sample.
 *
 * Every one of the N samples gets a verdict: `verified` (robust, proved by a sound method), `falsified` (a
 * re-checked counterexample in the ball; a sample the model already misclassifies is falsified by the image
 * itself), or `unknown` (undecided within the time limit). verified / N is the verified robust accuracy.
 *
 * Quantized directories are verified in their deployed integer semantics by default (the integer program,
 * bit-precisely; counterexamples re-run on the integer path), or with `semantics: 'fake-quant'` as the
 * simulated float model (the fake-quant IR; counterexamples re-run on the fake-quant classifier). Plain
 * directories are verified as their float model (IR in float64, counterexamples re-run on the TF.js model).
 */
import { initBackend, type BackendName } from '../backend/backend.js';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { packageVersion, versions } from '../core/versions.js';
import { describeDataset, loadDataset, select, type DatasetDescription, type ImageDataset } from '../data/index.js';
import type { Classifier } from '../models/classifier.js';
import { argmax } from '../models/prediction.js';
import { sourceQuantizationOf } from '../quant/hybrid/record.js';
import type { RequantRounding } from '../quant/integer/fixed-point.js';
import { dequantizeOutput, runIntegerProgram } from '../quant/integer/kernels.js';
import type { IntegerProgram } from '../quant/integer/program.js';
import { assertDirectory, loadClassifier } from '../quant/load-classifier.js';
import { verifyCaseAuto, verifyIntegerCaseAuto, type AutoResult } from '../verify/auto.js';
import { irFromModelDir } from '../verify/from-model.js';
import { integerCase } from '../verify/integer/integer-case.js';
import type { NetworkIR } from '../verify/ir.js';
import { localRobustnessCase, type VerificationCase } from '../verify/property.js';
import type { RequantEncoding } from '../verify/smt/encode-integer.js';
import { z3Version } from '../verify/smt/z3-runtime.js';
import { methodOptions, type VerifyMethod } from '../verify/methods.js';
import { isEnsembleMeta } from '../defenses/ensemble-dir.js';
import { readMetadata } from '../models/metadata.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import { verifyEnsembleDir, type MemberVerdict } from './verify-ensemble.js';

/**
 * 'ensemble': each member in its own semantics, combined as `VerifyDirReport.ensemble` states;
 * 'dynamic-range': a hybrid import as deployed (run-time input quantizers, float32 kernels): bounds and the
 * attack only, no complete method.
 */
export type Semantics = 'float' | 'fake-quant' | 'integer' | 'ensemble' | 'dynamic-range';

export interface VerifyDirOptions {
  readonly dir: string;
  /** L∞ radius in pixel units. */
  readonly epsilon: number;
  /** Test images, a seeded subset (default 100). */
  readonly n?: number;
  /** Instead of a subset: these test-set indices, in this order (`n` and `seed` then do not choose images). */
  readonly indices?: readonly number[];
  readonly seed?: number;
  readonly method?: VerifyMethod;
  /** Seconds per sample (default 60). */
  readonly timeout?: number;
  /** For quantized directories: 'integer' (default) or 'fake-quant'. */
  readonly semantics?: 'fake-quant' | 'integer';
  /** Requantization rounding of the integer path (default 'double', TFLite's default build). */
  readonly rounding?: RequantRounding;
  /** SMT encoding of requantization for integer programs (default 'threshold'). */
  readonly encoding?: RequantEncoding;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Attach each re-checked counterexample to its sample's verdict (not written to reports). */
  readonly keepCounterexamples?: boolean;
  /** Called after each sample. */
  readonly onSample?: (s: SampleVerdict, done: number, total: number) => void;
}

export type SampleOutcome = 'verified' | 'falsified' | 'unknown';

export interface SampleVerdict {
  /** Position in the loaded subset. */
  readonly sample: number;
  /** Position in the dataset's test file. */
  readonly index: number;
  readonly label: number;
  readonly outcome: SampleOutcome;
  /** The verifier's verdict on "some input of the ball is not classified as the label" ('misclassified' when the image itself is). */
  readonly verdict: string;
  readonly method: string;
  readonly seconds: number;
  readonly reason?: string;
  readonly stages?: AutoResult['stages'];
  /** Ensembles: what each member's verification said of the sample. */
  readonly members?: readonly MemberVerdict[];
  /** With `keepCounterexamples`: the re-checked counterexample of a falsified sample. */
  readonly counterexample?: Float64Array;
}

export interface VerifyDirReport {
  readonly model: string;
  readonly semantics: Semantics;
  readonly epsilon: number;
  readonly norm: 'linf';
  readonly method: VerifyMethod;
  readonly summary: { readonly verified: number; readonly falsified: number; readonly unknown: number; readonly seconds: number };
  readonly samples: readonly SampleVerdict[];
  /** Ensembles: how the combination was judged and each member's semantics. */
  readonly ensemble?: { readonly combine: string; readonly members: readonly string[]; readonly combination: string };
  readonly config: {
    readonly n: number;
    readonly seed: number;
    readonly timeout: number;
    readonly rounding: RequantRounding | null;
    readonly encoding: RequantEncoding | null;
    readonly dataset: DatasetDescription;
    readonly versions: Record<string, string>;
  };
}

/** The classifier itself (float32 TF.js or fake-quant executor) as a counterexample check. */
function classifierCheck(c: Classifier): (x: Float64Array) => Float64Array {
  return (x) => {
    const t = tf.tensor4d(Float32Array.from(x), [1, ...c.inputShape]);
    const y = c.logits(t);
    const out = Float64Array.from(y.dataSync());
    tf.dispose([t, y]);
    return out;
  };
}

/** The test images at `indices` (their positions in the test split are kept as the samples' indices). */
async function testImagesAt(dataset: string, indices: readonly number[], dataDir?: string): Promise<ImageDataset> {
  const all = await loadDataset(dataset, 'test', { dataDir });
  const past = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= all.count);
  if (past !== undefined) throw new QrobustError('invalid_option', `--indices: index ${past} is not one of the ${all.count} ${dataset} test images`);
  return select(all, indices);
}

/**
 * Verifies local robustness of a model directory's test samples.
 * @throws QrobustError for a bad ε, n, a model that does not load, a shape mismatch, or `semantics` on a float model.
 */
export async function verifyModelDir(o: VerifyDirOptions): Promise<VerifyDirReport> {
  if (!(o.epsilon >= 0) || !Number.isFinite(o.epsilon)) throw new QrobustError('invalid_option', `--eps: expected a number >= 0, got ${o.epsilon}`);
  const n = o.n ?? 100;
  if (!Number.isInteger(n) || n < 1) throw new QrobustError('invalid_option', `--n: expected an integer >= 1, got ${n}`);
  const timeout = o.timeout ?? 60;
  if (!(timeout > 0)) throw new QrobustError('invalid_option', `--timeout: expected seconds > 0, got ${timeout}`);
  const seed = o.seed ?? 0;
  const method = o.method ?? 'auto';
  await initBackend(o.backend);
  await assertDirectory(o.dir);
  const dirMeta = await readMetadata(o.dir);
  refuseInputMap(dirMeta, o.dir, 'verify');
  if (isEnsembleMeta(dirMeta)) return verifyEnsembleDir(o, dirMeta, verifyModelDir);
  const probe = await loadClassifier(o.dir);
  const quantized = probe.quantized;
  const meta = probe.meta;
  if (!quantized && o.semantics) {
    probe.classifier.dispose();
    throw new QrobustError('invalid_option', `${o.dir} is a full-precision model; --semantics applies to quantized models only`);
  }
  const sourceQuantization = sourceQuantizationOf(meta, o.dir);
  const dynamicRange = sourceQuantization?.kind === 'dynamic-range';
  if (sourceQuantization && o.semantics === 'fake-quant') {
    // The directory's IR is its float graph: it holds none of the source's quantizers.
    probe.classifier.dispose();
    throw new QrobustError('invalid_option', `${o.dir}: an imported integer network verifies in its integer semantics only (leave out --semantics fake-quant)`);
  }
  const semantics: Semantics = dynamicRange ? 'dynamic-range' : quantized ? (o.semantics ?? 'integer') : 'float';
  let classifier: Classifier = probe.classifier;
  let program: IntegerProgram | null = null;
  if (dynamicRange) {
    // The deployed hybrid network: the IR has its run-time input quantizers; counterexamples re-run on the
    // deployed kernels.
    probe.classifier.dispose();
    classifier = (await loadClassifier(o.dir, { integer: true })).classifier;
  } else if (semantics === 'integer') {
    const int = await loadClassifier(o.dir, { integer: true, ...(o.rounding ? { rounding: o.rounding } : {}) });
    program = (int.classifier as unknown as { program: IntegerProgram }).program;
    int.classifier.dispose();
  }
  try {
    const ir: NetworkIR = await irFromModelDir(o.dir);
    const data = o.indices ? await testImagesAt(meta.dataset, o.indices, o.dataDir) : await loadDataset(meta.dataset, 'test', { dataDir: o.dataDir, n, seed });
    if (JSON.stringify(data.shape) !== JSON.stringify(meta.inputShape)) {
      throw new QrobustError('shape_mismatch', `${o.dir} takes inputs of shape [${meta.inputShape.join(',')}] but ${meta.dataset} images are [${data.shape.join(',')}]`);
    }
    const size = data.shape[0] * data.shape[1] * data.shape[2];
    const check = classifierCheck(classifier);
    const samples: SampleVerdict[] = [];
    const t0 = performance.now();
    for (let k = 0; k < data.count; k++) {
      const x = Float32Array.from(data.pixels.subarray(k * size, (k + 1) * size), (v) => v / 255);
      const label = data.labels[k]!;
      const index = data.sourceIndices ? data.sourceIndices[k]! : k;
      const s0 = performance.now();
      // The image itself: a misclassified sample is not robust (the centre is a counterexample).
      const centre = program ? dequantizeOutput(program, runIntegerProgram(program, x, 1)) : check(Float64Array.from(x));
      let verdict: SampleVerdict;
      if (argmax(centre) !== label) {
        verdict = { sample: k, index, label, outcome: 'falsified', verdict: 'misclassified', method: 'model', seconds: (performance.now() - s0) / 1000 };
      } else {
        const vcase: VerificationCase = localRobustnessCase(x, label, o.epsilon, meta.numClasses, ...(meta.preprocessing.inputRange as [number, number]));
        const auto = methodOptions(method);
        const r = program
          ? await verifyIntegerCaseAuto(integerCase(program, vcase), {
              timeLimit: timeout,
              seed,
              guide: ir,
              ...auto,
              ...(o.encoding ? { encoding: o.encoding } : {}),
            })
          : await verifyCaseAuto(ir, vcase, { timeLimit: timeout, seed, modelCheck: check, ...auto });
        verdict = {
          sample: k,
          index,
          label,
          outcome: r.verdict === 'unsat' ? 'verified' : r.verdict === 'sat' ? 'falsified' : 'unknown',
          verdict: r.verdict,
          method: r.method,
          seconds: r.seconds,
          stages: r.stages,
          ...(r.reason ? { reason: r.reason } : {}),
          ...(o.keepCounterexamples && r.verdict === 'sat' && r.counterexample ? { counterexample: Float64Array.from(r.counterexample.input) } : {}),
        };
      }
      samples.push(verdict);
      o.onSample?.(verdict, k + 1, data.count);
    }
    const count = (x: SampleOutcome): number => samples.filter((s) => s.outcome === x).length;
    const z3 = await z3Version();
    return {
      model: o.dir,
      semantics,
      epsilon: o.epsilon,
      norm: 'linf',
      method,
      summary: { verified: count('verified'), falsified: count('falsified'), unknown: count('unknown'), seconds: (performance.now() - t0) / 1000 },
      samples,
      config: {
        n: data.count,
        seed,
        timeout,
        rounding: program ? program.rounding : null,
        encoding: program ? (o.encoding ?? 'threshold') : null,
        dataset: describeDataset(data),
        versions: { ...versions(), ...solverVersions(), ...(z3 ? { z3: z3 } : {}) },
      },
    };
  } finally {
    classifier.dispose();
  }
}

/** Versions of the solver packages, for result files. */
export function solverVersions(): Record<string, string> {
  return { highs: packageVersion('highs'), 'z3-solver': packageVersion('z3-solver') };
}
