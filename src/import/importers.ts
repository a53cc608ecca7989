/**
 * The importer of each format, loaded on demand (each pulls in its own reader: protobuf, flatbuffers, HDF5).
 */
import { QrobustError } from '../core/errors.js';
import type { ImportedNetwork, ImportRequest, ModelFormat } from './types.js';

export type Importer = (req: ImportRequest) => ImportedNetwork | Promise<ImportedNetwork>;

const LOADERS: Readonly<Partial<Record<ModelFormat, () => Promise<Importer>>>> = {
  onnx: async () => (await import('./onnx/index.js')).importOnnx,
  'keras-h5': async () => (await import('./keras/index.js')).importKerasH5,
  tflite: async () => (await import('./tflite/index.js')).importTflite,
};

export async function importerFor(format: ModelFormat, file: string): Promise<Importer> {
  const load = LOADERS[format];
  if (!load) throw new QrobustError('invalid_model', `${file}: ${format} files are not supported yet`);
  return load();
}
