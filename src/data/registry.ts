/**
 * What qrobust knows about each dataset: image shape, class names, splits, and for every split the files it is
 * made of, where they are published and how to recognise a good copy.
 *
 * Verification policy. A file is accepted when one known digest matches:
 * - the digest of its *content* (the bytes after gunzip, or the bytes themselves when not gzipped), or
 * - the digest of the file exactly as published (`published`), when the file is that gzip file.
 * Content digests are preferred because gzip output depends on the compressor and its settings: a file that was
 * decompressed, or recompressed by someone else, still verifies. The published-file digest only saves the
 * decompression when checking the status of an untouched download. CIFAR-10 files are known only by their
 * content, so `data_batch_1.bin` and any gzip of it (`data_batch_1.bin.gz`) are equally valid.
 *
 * Where a SHA-256 is not known, the MD5 is used instead (noted at each such entry).
 */
import { QrobustError } from '../core/errors.js';

export type SplitName = 'train' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'test'];

export type DatasetFormat = 'idx' | 'cifar-binary';

/** Digests and size of a byte sequence. Hex, lower case. */
export interface Digest {
  readonly size?: number;
  readonly sha256?: string;
  readonly md5?: string;
}

/** What a file holds: IDX images, IDX labels, or CIFAR binary records (label byte + 3 colour planes). */
export type FileRole = 'images' | 'labels' | 'records';

export interface FileSpec {
  /** Name of the uncompressed file, e.g. `train-images-idx3-ubyte` or `data_batch_1.bin`. */
  readonly name: string;
  readonly role: FileRole;
  /** Number of images or labels or records in the file. */
  readonly count: number;
  /** Digest of the uncompressed content. */
  readonly content: Digest & { readonly size: number };
  /** The file as it is published for direct download (e.g. the `.gz`), when it is. */
  readonly published?: Digest & { readonly name: string };
  /** Direct download URLs of `published`, tried in order. */
  readonly urls?: readonly string[];
  /** Name of the archive (in `DatasetSpec.archives`) that holds this file, when it is distributed that way. */
  readonly archive?: string;
}

export interface ArchiveSpec {
  /** File name of the archive, e.g. `cifar-10-binary.tar.gz` (a gzipped ustar tarball). */
  readonly name: string;
  readonly urls: readonly string[];
  readonly digest: Digest;
  /** Path of each member inside the archive, by `FileSpec.name`. */
  readonly members: Readonly<Record<string, string>>;
}

/** One way to make up a split. The variants of a split are listed in order of preference. */
export interface VariantSpec {
  /** 'canonical' for the published split; otherwise a name saying what it is, e.g. 'test_batch_first1000'. */
  readonly variant: string;
  readonly canonical: boolean;
  readonly description: string;
  readonly count: number;
  readonly files: readonly FileSpec[];
  /** Number of examples of each class, when known (a sanity reference, not enforced). */
  readonly labelCounts?: readonly number[];
}

export interface SplitSpec {
  readonly split: SplitName;
  readonly variants: readonly VariantSpec[];
}

export interface DatasetSpec {
  /** Name used on the command line and as the subfolder in data directories, e.g. `mnist`. */
  readonly name: string;
  readonly title: string;
  readonly format: DatasetFormat;
  /** [height, width, channels] of one image (NHWC without the N). */
  readonly shape: readonly [number, number, number];
  readonly classNames: readonly string[];
  readonly splits: Readonly<Record<SplitName, SplitSpec>>;
  readonly archives?: readonly ArchiveSpec[];
  readonly homepage: string;
  readonly license: string;
  readonly citation: string;
}

// ---------------------------------------------------------------------------------------------------------------

const MNIST_URLS = [
  'http://yann.lecun.com/exdb/mnist/',
  // A long-standing mirror of the same files; the original host has at times refused anonymous downloads.
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
];

function idxFile(
  urlBases: readonly string[],
  name: string,
  role: 'images' | 'labels',
  count: number,
  content: Digest,
  published: Digest,
): FileSpec {
  const size = role === 'images' ? 16 + count * 28 * 28 : 8 + count;
  const gz = `${name}.gz`;
  return {
    name,
    role,
    count,
    content: { ...content, size },
    published: { ...published, name: gz },
    urls: urlBases.map((b) => b + gz),
  };
}

/*
 * MNIST. Published digests (of the .gz files) are the well-known MD5s plus their SHA-256. The content digests
 * were computed from files whose published MD5s match.
 */
const MNIST: DatasetSpec = {
  name: 'mnist',
  title: 'MNIST handwritten digits',
  format: 'idx',
  shape: [28, 28, 1],
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  homepage: 'http://yann.lecun.com/exdb/mnist/',
  license: 'CC BY-SA 3.0',
  citation: 'Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits.',
  splits: {
    train: {
      split: 'train',
      variants: [
        {
          variant: 'canonical',
          canonical: true,
          description: 'the 60,000 MNIST training images',
          count: 60000,
          labelCounts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
          files: [
            idxFile(
              MNIST_URLS,
              'train-images-idx3-ubyte',
              'images',
              60000,
              { sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db', md5: '6bbc9ace898e44ae57da46a324031adb' },
              {
                size: 9912422,
                sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
                md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
              },
            ),
            idxFile(
              MNIST_URLS,
              'train-labels-idx1-ubyte',
              'labels',
              60000,
              { sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5', md5: 'a25bea736e30d166cdddb491f175f624' },
              {
                size: 28881,
                sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
                md5: 'd53e105ee54ea40749a09fcbcd1e9432',
              },
            ),
          ],
        },
      ],
    },
    test: {
      split: 'test',
      variants: [
        {
          variant: 'canonical',
          canonical: true,
          description: 'the 10,000 MNIST test images',
          count: 10000,
          labelCounts: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
          files: [
            idxFile(
              MNIST_URLS,
              't10k-images-idx3-ubyte',
              'images',
              10000,
              { sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', md5: '2646ac647ad5339dbf082846283269ea' },
              {
                size: 1648877,
                sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
                md5: '9fb629c4189551a2d022fa330f9573f3',
              },
            ),
            idxFile(
              MNIST_URLS,
              't10k-labels-idx1-ubyte',
              'labels',
              10000,
              { sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', md5: '27ae3e4e09519cfbb04c329615203637' },
              {
                size: 4542,
                sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
                md5: 'ec29112dd5afa0611ce80d1b7f02629c',
              },
            ),
          ],
        },
      ],
    },
  },
};

const FASHION_URLS = [
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
];

/*
 * Fashion-MNIST. For the two image files only the published MD5 and size of the .gz are known (no SHA-256, no
 * content digest), so they verify by the MD5 of the .gz itself and must be kept in that original gzip form.
 * The label files verify by content SHA-256, computed from files whose published MD5s match.
 */
const FASHION_MNIST: DatasetSpec = {
  name: 'fashion-mnist',
  title: 'Fashion-MNIST (Zalando article images)',
  format: 'idx',
  shape: [28, 28, 1],
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  homepage: 'https://github.com/zalandoresearch/fashion-mnist',
  license: 'MIT',
  citation:
    'H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms, 2017.',
  splits: {
    train: {
      split: 'train',
      variants: [
        {
          variant: 'canonical',
          canonical: true,
          description: 'the 60,000 Fashion-MNIST training images',
          count: 60000,
          labelCounts: Array.from({ length: 10 }, () => 6000),
          files: [
            idxFile(FASHION_URLS, 'train-images-idx3-ubyte', 'images', 60000, {}, {
              size: 26421880,
              md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', // MD5 only: no SHA-256 is known for this file
            }),
            idxFile(
              FASHION_URLS,
              'train-labels-idx1-ubyte',
              'labels',
              60000,
              { sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', md5: '9018921c3c673c538a1fc5bad174d6f9' },
              {
                size: 29515,
                sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
                md5: '25c81989df183df01b3e8a0aad5dffbe',
              },
            ),
          ],
        },
      ],
    },
    test: {
      split: 'test',
      variants: [
        {
          variant: 'canonical',
          canonical: true,
          description: 'the 10,000 Fashion-MNIST test images',
          count: 10000,
          labelCounts: Array.from({ length: 10 }, () => 1000),
          files: [
            idxFile(FASHION_URLS, 't10k-images-idx3-ubyte', 'images', 10000, {}, {
              size: 4422102,
              md5: 'bef4ecab320f06d8554ea6380940ec79', // MD5 only: no SHA-256 is known for this file
            }),
            idxFile(
              FASHION_URLS,
              't10k-labels-idx1-ubyte',
              'labels',
              10000,
              { sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', md5: '15d484375f8d13e6eb1aabb0c3f46965' },
              {
                size: 5148,
                sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
                md5: 'bb300cfdad3c16e7a12a480ee83cd310',
              },
            ),
          ],
        },
      ],
    },
  },
};

const CIFAR_ARCHIVE = 'cifar-10-binary.tar.gz';
const CIFAR_RECORD_BYTES = 3073;

function cifarBatch(name: string, count: number, content: Digest): FileSpec {
  return { name, role: 'records', count, content: { ...content, size: count * CIFAR_RECORD_BYTES }, archive: CIFAR_ARCHIVE };
}

/*
 * CIFAR-10, binary version. It is published only as one tarball, so the files are known by the digests of their
 * (uncompressed) content; each may be stored raw or gzipped.
 */
const CIFAR10: DatasetSpec = {
  name: 'cifar10',
  title: 'CIFAR-10 (binary version)',
  format: 'cifar-binary',
  shape: [32, 32, 3],
  classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
  license: 'no explicit license; cite the technical report',
  citation: 'A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, tech. report, University of Toronto, 2009.',
  archives: [
    {
      name: CIFAR_ARCHIVE,
      urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
      digest: { md5: 'c32a1d4ab5d03f1284b67883e8d87530' }, // the published MD5 (no SHA-256 is published)
      members: {
        'data_batch_1.bin': 'cifar-10-batches-bin/data_batch_1.bin',
        'data_batch_2.bin': 'cifar-10-batches-bin/data_batch_2.bin',
        'data_batch_3.bin': 'cifar-10-batches-bin/data_batch_3.bin',
        'data_batch_4.bin': 'cifar-10-batches-bin/data_batch_4.bin',
        'data_batch_5.bin': 'cifar-10-batches-bin/data_batch_5.bin',
        'test_batch.bin': 'cifar-10-batches-bin/test_batch.bin',
      },
    },
  ],
  splits: {
    train: {
      split: 'train',
      variants: [
        {
          variant: 'canonical',
          canonical: true,
          description: 'the 50,000 CIFAR-10 training images (data_batch_1..5.bin)',
          count: 50000,
          labelCounts: Array.from({ length: 10 }, () => 5000),
          files: [
            cifarBatch('data_batch_1.bin', 10000, {
              sha256: 'cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5',
              md5: '5dd7e06a14cb22eb9f671a540d1b7c25',
            }),
            cifarBatch('data_batch_2.bin', 10000, {
              sha256: 'a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed',
              md5: '5ea93a67294ea407fff1d09f752e9692',
            }),
            cifarBatch('data_batch_3.bin', 10000, {
              sha256: 'bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67',
              md5: '942cd6a4bcdd0dd3c604fbe906cb4421',
            }),
            cifarBatch('data_batch_4.bin', 10000, {
              sha256: '014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48',
              md5: 'ae636b3ba5c66a11e91e8cb52e771fcb',
            }),
            cifarBatch('data_batch_5.bin', 10000, {
              sha256: '755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add',
              md5: '53f37980c15c3d472c316c40844f3f0d',
            }),
          ],
        },
      ],
    },
    test: {
      split: 'test',
      variants: [
        {
          variant: 'canonical',
          canonical: true,
          description: 'the 10,000 CIFAR-10 test images (test_batch.bin)',
          count: 10000,
          labelCounts: Array.from({ length: 10 }, () => 1000),
          files: [
            // Only the published MD5 of test_batch.bin is known (no SHA-256), so this file verifies by MD5.
            cifarBatch('test_batch.bin', 10000, { md5: '803d5f7f4d78ea53de84dbe85f74fb6d' }),
          ],
        },
        {
          variant: 'test_batch_first1000',
          canonical: false,
          description: 'the first 1,000 records of test_batch.bin (a prefix of the canonical test set, not all of it)',
          count: 1000,
          labelCounts: [103, 89, 100, 103, 90, 86, 112, 102, 106, 109],
          files: [
            {
              name: 'test_batch_first1000.bin',
              role: 'records',
              count: 1000,
              content: {
                size: 1000 * CIFAR_RECORD_BYTES,
                sha256: '8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5',
                md5: '371f65da31ad652f5e24b3699a3e6515',
              },
              // Not published anywhere: it can only be found locally.
            },
          ],
        },
      ],
    },
  },
};

export const DATASETS: Readonly<Record<string, DatasetSpec>> = {
  mnist: MNIST,
  'fashion-mnist': FASHION_MNIST,
  cifar10: CIFAR10,
};

export const DATASET_NAMES: readonly string[] = Object.keys(DATASETS);

/** The spec of a built-in dataset; unknown names are a QrobustError('unknown_dataset'). */
export function getDatasetSpec(name: string): DatasetSpec {
  const spec = Object.prototype.hasOwnProperty.call(DATASETS, name) ? DATASETS[name] : undefined;
  if (!spec) {
    throw new QrobustError('unknown_dataset', `unknown dataset '${name}': expected one of ${DATASET_NAMES.join(', ')}`);
  }
  return spec;
}

/** File names under which `file` is accepted in a folder: the uncompressed name, then the gzipped one. */
export function acceptedNames(file: FileSpec): string[] {
  const names = [file.name, `${file.name}.gz`];
  if (file.published && !names.includes(file.published.name)) names.push(file.published.name);
  return names;
}

/**
 * The name and checksum to look for when fetching `file` by hand, for messages: the published file when there is
 * one (e.g. `train-images-idx3-ubyte.gz (9912422 bytes, SHA-256 …)`), else the uncompressed file.
 */
export function describeExpected(file: FileSpec): string {
  const p = file.published;
  if (p && (p.sha256 || p.md5)) {
    const size = p.size !== undefined ? `${p.size} bytes, ` : '';
    return `${p.name} (${size}${p.sha256 ? `SHA-256 ${p.sha256}` : `MD5 ${p.md5}`})`;
  }
  const c = file.content;
  return `${file.name} (${c.size} bytes, ${c.sha256 ? `SHA-256 ${c.sha256}` : `MD5 ${c.md5 ?? 'unknown'}`})`;
}
