/**
 * How large a network the verifier takes: its matrices (weights of dense and convolution maps, window taps) are
 * built in memory as CSR, 2^25 entries taking about 400 MB. A bigger network is refused before its matrices are
 * allocated, with the size named, instead of running the process out of heap. mnistfc 256x6 needs 0.53 million
 * entries.
 */
import { QrobustError } from '../core/errors.js';

export const MAX_IR_ENTRIES = 2 ** 25;

/** The one-line refusal of a network over a limit: `what` it needs, and the `limit`. */
export function tooLargeToVerify(source: string, what: string, limit: string): QrobustError {
  return new QrobustError('unsupported_layer', `${source}: the network is too large to verify: ${what} (the limit is ${limit})`);
}

/** Counts the matrix entries of each node as it is lowered, refusing the network once they pass the limit. */
export class EntryBudget {
  private used = 0;

  constructor(private readonly source: string) {}

  reserve(node: string, entries: number): void {
    this.used += entries;
    if (this.used > MAX_IR_ENTRIES) {
      const n = (x: number): string => x.toLocaleString('en-US');
      throw tooLargeToVerify(this.source, `node '${node}' needs ${n(entries)} matrix entries in the verifier's form, ${n(this.used)} with the nodes before it`, `${n(MAX_IR_ENTRIES)} entries`);
    }
  }
}
