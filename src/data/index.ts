/**
 * Datasets: the built-in registry (MNIST, Fashion-MNIST, CIFAR-10), verified loading from local folders or the
 * canonical URLs, the user's own data (a folder of class folders, a NumPy .npz), and the helpers that turn a
 * loaded dataset into tensors.
 */
export {
  DATASETS,
  DATASET_NAMES,
  SPLIT_NAMES,
  getDatasetSpec,
  acceptedNames,
  type ArchiveSpec,
  type DatasetFormat,
  type DatasetSpec,
  type Digest,
  type FileRole,
  type FileSpec,
  type SplitName,
  type SplitSpec,
  type VariantSpec,
} from './registry.js';
export {
  batchCount,
  batches,
  describeDataset,
  epochOrder,
  labelCounts,
  select,
  subset,
  subsetIndices,
  takeFirst,
  toTensors,
  type Batch,
  type BatchOptions,
  type DatasetDescription,
  type DatasetFile,
  type ImageDataset,
  type Selection,
  type TensorPair,
} from './dataset.js';
export { loadDataset, loadDatasetFromSpec, type LoadOptions } from './load.js';
export { datasetShape, type DatasetShape, type DatasetShapeOptions } from './shape.js';
export { channelStatistics, type PixelStatistics } from './statistics.js';
export { parseDatasetSource, DATASET_PLACEHOLDER, FOLDER_PREFIX, NPZ_PREFIX, type DatasetSource } from './source.js';
export { loadImageFolder, listImageFolder, manifestSha256, CLASSES_FILE, IMAGE_EXTENSIONS, type FolderImage, type FolderListing } from './image-folder.js';
export { loadNpzDataset, pixelLayout, LEVEL_TOLERANCE, type PixelLayout } from './npz-dataset.js';
export { decodeImage, type DecodedImage } from './image-decode.js';
export { parseNpy, type NpyArray, type NpyDtype, type NpyKind } from './npy.js';
export { readNpzArrays, npzMembers, type NpzMember } from './npz.js';
export {
  datasetStatus,
  type DatasetStatus,
  type DatasetsStatus,
  type FileStatus,
  type SplitStatus,
  type StatusOptions,
  type VariantStatus,
} from './status.js';
export {
  cacheDirOf,
  defaultCacheDir,
  findSiblingMirror,
  searchLocations,
  type LocateOptions,
  type SearchLocation,
  type SourceKind,
} from './locate.js';
export { formatProgress, terminalProgress, type ProgressEvent, type ProgressHandler } from './download.js';
export { parseIdx, readIdxFile, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, type IdxImages, type IdxLabels } from './idx.js';
export { parseCifarBinary, readCifarBinaryFile, type CifarRecords } from './cifar-binary.js';
export { clearVerificationCache, type VerifiedBy } from './verify.js';
