/** The TFLite importer (flatbuffers `TFL3`): see `import-tflite.ts`. */
export { importTflite } from './import-tflite.js';
export { readTfliteModel, type TfliteModel, type TfliteOperator, type TfliteTensor } from './read-model.js';
