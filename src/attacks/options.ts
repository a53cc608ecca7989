/**
 * Option checking for attacks: merge the attack's defaults once, reject options it does not use, and report
 * bad values as `QrobustError('invalid_option')` with "expected X, got Y" messages naming the attack.
 */
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { LOSSES, NORMS, type AttackOptions, type AttackSpec, type ResolvedOptions } from './types.js';

const COMMON_KEYS = new Set(['epsilon', 'norm', 'targets', 'rng', 'seed']);

function fail(attack: string, message: string): never {
  throw new QrobustError('invalid_option', `${attack}: ${message}`);
}

/** Validates `options` for `spec` and merges its defaults. Step sizes become absolute. */
export function resolveOptions(spec: AttackSpec, classifier: Classifier, n: number, options: AttackOptions): ResolvedOptions {
  const name = spec.name;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || COMMON_KEYS.has(key)) continue;
    if (!(spec.uses as readonly string[]).includes(key)) {
      const known = ['epsilon', 'norm', ...(spec.targeted ? ['targets'] : []), 'seed', 'rng', ...spec.uses];
      fail(name, `unknown option '${key}' (options: ${known.join(', ')})`);
    }
  }
  const o = { ...spec.defaults, ...stripUndefined(options) } as AttackOptions;
  const eps = o.epsilon;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) fail(name, `expected epsilon >= 0, got ${eps}`);
  const norm = o.norm ?? spec.norms[0]!;
  if (!NORMS.includes(norm)) fail(name, `expected norm one of ${NORMS.join(', ')}, got '${norm}'`);
  if (!spec.norms.includes(norm)) fail(name, `norm '${norm}' is not supported (supported: ${spec.norms.join(', ')})`);
  const loss = o.loss ?? 'ce';
  if (!LOSSES.includes(loss)) fail(name, `expected loss one of ${LOSSES.join(', ')}, got '${loss}'`);
  if (loss === 'dlr' && classifier.numClasses < (o.targets ? 4 : 3)) {
    fail(name, `the dlr loss needs at least ${o.targets ? 4 : 3} classes${o.targets ? ' when targeted' : ''}, got ${classifier.numClasses}`);
  }
  const steps = o.steps ?? 1;
  if (!Number.isInteger(steps) || steps < 1) fail(name, `expected steps >= 1 (an integer), got ${steps}`);
  const restarts = o.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) fail(name, `expected restarts >= 1 (an integer), got ${restarts}`);
  const decay = o.decay ?? 0;
  if (!Number.isFinite(decay) || decay < 0) fail(name, `expected decay >= 0, got ${decay}`);
  const overshoot = o.overshoot ?? 0;
  if (!Number.isFinite(overshoot) || overshoot < 0) fail(name, `expected overshoot >= 0, got ${overshoot}`);
  let stepSize: number;
  if (o.stepSize !== undefined) {
    if (!Number.isFinite(o.stepSize) || o.stepSize <= 0) fail(name, `expected stepSize > 0, got ${o.stepSize}`);
    stepSize = o.stepSize;
  } else {
    const rel = o.relStepSize ?? 2.5 / steps;
    if (!Number.isFinite(rel) || rel <= 0) fail(name, `expected relStepSize > 0, got ${rel}`);
    stepSize = rel * eps;
  }
  let targets: Int32Array | null = null;
  if (o.targets) {
    if (!spec.targeted) fail(name, 'targeted mode is not supported');
    if (o.targets.length !== n) fail(name, `expected ${n} targets (one per input), got ${o.targets.length}`);
    for (const t of o.targets) {
      if (!Number.isInteger(t) || t < 0 || t >= classifier.numClasses) {
        fail(name, `expected targets in 0..${classifier.numClasses - 1}, got ${t}`);
      }
    }
    targets = o.targets;
  }
  if (o.seed !== undefined && (!Number.isInteger(o.seed) || o.seed < 0)) fail(name, `expected seed a non-negative integer, got ${o.seed}`);
  const confidence = o.confidence ?? 0;
  if (!Number.isFinite(confidence) || confidence < 0) fail(name, `expected confidence >= 0, got ${confidence}`);
  const binarySearchSteps = positiveInteger(name, 'binarySearchSteps', o.binarySearchSteps ?? 1);
  const initialConst = o.initialConst ?? 1e-3;
  if (!Number.isFinite(initialConst) || initialConst <= 0) fail(name, `expected initialConst > 0, got ${initialConst}`);
  const learningRate = o.learningRate ?? 0.01;
  if (!Number.isFinite(learningRate) || learningRate <= 0) fail(name, `expected learningRate > 0, got ${learningRate}`);
  const maxQueries = o.maxQueries === undefined ? Infinity : positiveInteger(name, 'maxQueries', o.maxQueries);
  const pInit = o.pInit ?? 0.8;
  if (!Number.isFinite(pInit) || pInit <= 0 || pInit > 1) fail(name, `expected pInit in (0, 1], got ${pInit}`);
  const samples = positiveInteger(name, 'samples', o.samples ?? 128);
  const delta = o.delta ?? 0.01;
  if (!Number.isFinite(delta) || delta <= 0) fail(name, `expected delta > 0, got ${delta}`);
  const targetClasses = positiveInteger(name, 'targetClasses', o.targetClasses ?? 9);
  const eot = positiveInteger(name, 'eot', o.eot ?? 1);
  return {
    epsilon: eps,
    norm,
    targets,
    loss,
    steps,
    stepSize,
    randomStart: o.randomStart ?? false,
    restarts,
    decay,
    overshoot,
    earlyStop: o.earlyStop ?? true,
    confidence,
    binarySearchSteps,
    initialConst,
    learningRate,
    maxQueries,
    pInit,
    samples,
    delta,
    targetClasses: Math.min(targetClasses, Math.max(classifier.numClasses - 1, 1)),
    eot,
    rng: o.rng ?? new Rng(o.seed ?? 0),
  };
}

function positiveInteger(attack: string, key: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) fail(attack, `expected ${key} >= 1 (an integer), got ${value}`);
  return value;
}

function stripUndefined(o: AttackOptions): Partial<AttackOptions> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<AttackOptions>;
}
