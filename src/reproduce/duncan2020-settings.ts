/**
 * What the duncan2020 reproduction runs, per budget: the authors' (MANIP, R) grid, the test images, the search
 * options, and the config it records (written to `reproduce-config.json` and into every record).
 */
import type { DlvSearchOptions } from '../attacks/dlv-search.js';
import type { Budget } from './budget.js';

/** The authors' driver comments: MANIP (the step is MANIP/255) and the L1 radius R. */
export const DUNCAN_MANIPS = [256, 128, 64, 32, 16, 8, 4] as const;
export const DUNCAN_RADII = [10, 20] as const;

/** The networks, as published by the authors (copied byte for byte into the shared models folder). */
export const DUNCAN_FP_FILE = 'weights_keras1.h5';
export const DUNCAN_QNN_FILE = 'converted_model_cifar.tflite';
export const DUNCAN_MODELS_SUBDIR = 'duncan2020';

export interface DuncanSettings {
  /** The first `images` CIFAR-10 test images; those the FP network labels correctly are searched. */
  readonly images: number;
  readonly pairs: readonly (readonly [number, number])[];
  readonly search: Omit<DlvSearchOptions, 'manip' | 'radius'>;
  readonly seed: number;
}

const allPairs = DUNCAN_MANIPS.flatMap((m) => DUNCAN_RADII.map((r) => [m, r] as const));
/** The authors' search: all regions of 10 dimensions, 3 samples, cp 0.5, one level, the image crossing R evaluated. */
const SEARCH = { featureDims: 10, numFeatures: null, samples: 3, cp: 0.5, iterations: 1000, levels: 1, beyondRadius: true } as const;

export const DUNCAN_SETTINGS: Readonly<Record<Budget, DuncanSettings>> = {
  smoke: { images: 40, pairs: [[64, 10]], search: { ...SEARCH, maxQueries: 1000 }, seed: 2020 },
  full: { images: 500, pairs: allPairs, search: { ...SEARCH, maxQueries: 5000 }, seed: 2020 },
};

/** The seed of one search: a function of the run's seed, the test index and the configuration. */
export function searchSeed(seed: number, index: number, manip: number, radius: number): number {
  return (Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(manip, 0xc2b2ae35) ^ Math.imul(radius, 0x27d4eb2f)) >>> 0;
}

/** The task id of one search. */
export function searchId(index: number, manip: number, radius: number, maxQueries: number): string {
  return `search/m${manip}-r${radius}-q${maxQueries}/i${index}`;
}

/** The config of a budget, as recorded. */
export function duncanConfig(budget: Budget): Record<string, unknown> {
  const s = DUNCAN_SETTINGS[budget];
  return {
    name: `duncan2020-${budget}`,
    paper: 'duncan2020',
    seed: s.seed,
    data: { dataset: 'cifar10', split: 'test', first: s.images, searched: 'those the full-precision network labels correctly' },
    models: {
      fp: { file: DUNCAN_FP_FILE, format: 'keras-h5', arch: 'dense:256,256,10', layout: 'flat-nchw' },
      qnn: { file: DUNCAN_QNN_FILE, format: 'tflite', layout: 'flat-nchw', semantics: 'deployed (TFLite dynamic-range hybrid)' },
    },
    search: { method: 'dlv-mcts', ...s.search, pairs: s.pairs.map(([manip, radius]) => ({ manip, radius })) },
  };
}
