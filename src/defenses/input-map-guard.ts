/**
 * Commands that rebuild or analyse a model's network without its input map (`inputMap` in qrobust.json, Song et
 * al.'s non-linear mapping) refuse such a directory in one line, rather than silently drop the map.
 */
import { QrobustError } from '../core/errors.js';
import type { ModelMetadata } from '../models/metadata.js';

/** @throws QrobustError('invalid_argument') when `meta` has an input map. */
export function refuseInputMap(meta: ModelMetadata, dir: string, command: string): void {
  if (meta['inputMap'] === undefined) return;
  throw new QrobustError('invalid_argument', `${command}: ${dir} has a non-linear input map, which ${command} does not support; use its parent directory and add the map afterwards (defend --method nonlinear-map)`);
}
