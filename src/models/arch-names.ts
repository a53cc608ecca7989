/** The names of the architectures in the zoo, apart from the models themselves so that the CLI's help loads no tfjs. */
import { QrobustError } from '../core/errors.js';

export const ARCH_NAMES = ['mlp-tiny', 'mlp-100', 'mlp', 'cnn-small', 'cnn-cifar'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

export function parseArchName(s: string): ArchName {
  if ((ARCH_NAMES as readonly string[]).includes(s)) return s as ArchName;
  throw new QrobustError('unknown_arch', `unknown architecture '${s}': expected one of ${ARCH_NAMES.join(', ')}`);
}
