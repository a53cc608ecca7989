/**
 * The Keras HDF5 importer (see import-keras.ts).
 */
export { importKerasH5 } from './import-keras.js';
export { parseArch, type ArchLayer } from './arch.js';
export { SUPPORTED_KERAS_LAYERS } from './full-model.js';
export { readHdf5Tree, type H5Dataset, type H5Group, type H5Node } from './hdf5-tree.js';
