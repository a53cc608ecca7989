/**
 * Errors that a user can cause (bad input, missing files, unknown names) are `QrobustError`s: the CLI prints
 * their one-line message and exits with code 2. Anything else is a bug and keeps its stack trace.
 */
export type ErrorCode =
  | 'invalid_argument'
  | 'invalid_option'
  | 'unknown_dataset'
  | 'unknown_arch'
  | 'unknown_command'
  | 'dataset_missing'
  | 'dataset_corrupt'
  | 'checksum_mismatch'
  | 'download_failed'
  | 'not_a_model'
  | 'invalid_model'
  | 'shape_mismatch'
  | 'backend_unavailable'
  | 'io_error'
  | 'unsupported_layer'
  | 'invalid_quant_spec'
  | 'not_integer_executable'
  | 'weights_mismatch'
  | 'broker_unavailable';

export class QrobustError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QrobustError';
    this.code = code;
  }
}

export function isQrobustError(e: unknown): e is QrobustError {
  return e instanceof QrobustError;
}

/** Throws a QrobustError('invalid_argument') unless `condition` holds. */
export function check(condition: unknown, message: string, code: ErrorCode = 'invalid_argument'): asserts condition {
  if (!condition) throw new QrobustError(code, message);
}
