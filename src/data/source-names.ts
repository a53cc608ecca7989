/**
 * The spellings of a dataset source (source.ts) that command help shows, in a light module of their own so that
 * `--help` loads no dataset reader.
 */
import { DATASET_NAMES } from './registry.js';

export const NPZ_PREFIX = 'npz:';
export const FOLDER_PREFIX = 'images:';

/** How `--dataset` is shown in command help: the built-in names and the two forms of the user's own data. */
export const DATASET_PLACEHOLDER = `${DATASET_NAMES.join('|')}|DIR|npz:FILE`;
