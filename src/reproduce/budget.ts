/** How much a reproduction runs: `smoke` within minutes on two cores (CI runs it), `full` what docs/reproduce.md reports. */
import { QrobustError } from '../core/errors.js';

export type Budget = 'smoke' | 'full';
export const BUDGETS: readonly Budget[] = ['smoke', 'full'];

export function parseBudget(s: string): Budget {
  if ((BUDGETS as readonly string[]).includes(s)) return s as Budget;
  throw new QrobustError('invalid_option', `--budget: expected ${BUDGETS.join(' or ')}, got '${s}'`);
}
