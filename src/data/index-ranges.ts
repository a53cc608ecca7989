/**
 * Test-set indices as a command line gives them: `A-B` (inclusive), single indices, or a comma-separated mix
 * (`0-99,200-249,7`), in the order written, without repeats.
 */
import { QrobustError } from '../core/errors.js';

/**
 * Parses an index list.
 * @throws QrobustError('invalid_option') naming `flag` for a malformed part, a range with A > B, a repeated index,
 *   or an index at or beyond `count` (when given).
 */
export function parseIndexRanges(text: string, flag = '--indices', count?: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new QrobustError('invalid_option', `${flag}: expected indices such as 0-99 or 3,17,40-49, got '${part || text}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b) throw new QrobustError('invalid_option', `${flag}: the range ${part} runs backwards`);
    for (let i = a; i <= b; i++) {
      if (seen.has(i)) throw new QrobustError('invalid_option', `${flag}: index ${i} is given twice`);
      if (count !== undefined && i >= count) throw new QrobustError('invalid_option', `${flag}: index ${i} is past the ${count} test images`);
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}
