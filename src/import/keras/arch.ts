/**
 * The topology of a weights-only file, as `--arch` declares it: a zoo architecture name (models/zoo.ts) or a
 * layer list `dense:256,256,10`. Every conv and every dense layer but the last is followed by ReLU; a flatten
 * comes before the first dense layer; the last layer gives the logits (a softmax the file was trained with is
 * not part of them).
 */
import { QrobustError } from '../../core/errors.js';
import { ARCH_NAMES } from '../../models/arch-names.js';

export type ArchLayer =
  | { readonly kind: 'dense'; readonly units: number }
  /** 3×3, stride 1, 'same' padding, as the zoo's convolutions. */
  | { readonly kind: 'conv'; readonly filters: number }
  /** 2×2, stride 2. */
  | { readonly kind: 'maxPool' };

const conv = (filters: number): ArchLayer => ({ kind: 'conv', filters });
const dense = (units: number): ArchLayer => ({ kind: 'dense', units });
const pool: ArchLayer = { kind: 'maxPool' };

/** The zoo's architectures as layer lists (their descriptions in models/zoo.ts). */
function zooLayers(name: string, numClasses: number): ArchLayer[] | null {
  switch (name) {
    case 'mlp-tiny':
      return [dense(32), dense(32), dense(numClasses)];
    case 'mlp-100':
      return [dense(100), dense(numClasses)];
    case 'mlp':
      return [dense(256), dense(256), dense(numClasses)];
    case 'cnn-small':
      return [conv(16), pool, conv(32), pool, dense(128), dense(numClasses)];
    case 'cnn-cifar':
      return [conv(32), conv(32), pool, conv(64), conv(64), pool, conv(128), pool, dense(128), dense(numClasses)];
    default:
      return null;
  }
}

/**
 * Parses `--arch`.
 * @throws QrobustError('unknown_arch') for anything else than a zoo name or `dense:N,N,...`.
 */
export function parseArch(file: string, arch: string, numClasses: number): ArchLayer[] {
  const zoo = zooLayers(arch, numClasses);
  if (zoo) return zoo;
  const m = /^dense:(\d+(?:,\d+)*)$/.exec(arch.replace(/\s+/g, ''));
  const units = m ? m[1]!.split(',').map(Number) : [];
  if (!m || units.some((u) => !(u > 0))) {
    throw new QrobustError(
      'unknown_arch',
      `${file}: --arch '${arch}': expected a zoo architecture (${ARCH_NAMES.join(', ')}) or a dense layer list such as dense:256,256,10`,
    );
  }
  return units.map(dense);
}

export function describeArchLayer(l: ArchLayer): string {
  switch (l.kind) {
    case 'dense':
      return `dense ${l.units}`;
    case 'conv':
      return `conv 3x3x${l.filters}`;
    case 'maxPool':
      return 'max-pool 2';
  }
}
