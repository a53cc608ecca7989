/** The ONNX export formats (export-dir.ts), in a light module of their own so that `export --help` loads no tfjs. */
import { QrobustError } from '../core/errors.js';

export const EXPORT_FORMATS = ['onnx', 'onnx-int8'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function parseExportFormat(s: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(s)) return s as ExportFormat;
  throw new QrobustError('invalid_option', `--format: expected one of ${EXPORT_FORMATS.join(', ')}, got '${s}'`);
}
