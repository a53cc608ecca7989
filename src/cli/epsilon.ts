/** The ε arguments of the commands: one radius (`verify`, `relative-robustness`) or a list (`attack`). */
import { QrobustError } from '../core/errors.js';

/** ε as a number or a fraction such as 2/255. */
export function parseEpsilon(raw: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*(?:\/\s*([0-9]*\.?[0-9]+))?\s*$/i.exec(raw);
  const v = m ? Number(m[1]) / (m[2] !== undefined ? Number(m[2]) : 1) : NaN;
  if (!Number.isFinite(v) || v < 0) throw new QrobustError('invalid_option', `--eps: expected a number >= 0 or a fraction such as 2/255, got '${raw}'`);
  return v;
}

/** Parses "0.05,0.1,0.2" into numbers; each must be a finite number ≥ 0. */
export function parseEpsilons(raw: string): number[] {
  const parts = raw.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  values.forEach((v, i) => {
    if (parts[i] === '' || !Number.isFinite(v) || v < 0) {
      throw new QrobustError('invalid_option', `--eps: expected a comma-separated list of numbers >= 0, got '${raw}'`);
    }
  });
  return values;
}
