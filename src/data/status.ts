/**
 * Which dataset files are present, where, and whether they verify: plain data for `qrobust datasets`.
 */
import { checkFile, findArchive, findCandidates } from './load.js';
import { cacheDirOf, searchLocations, type LocateOptions, type SearchLocation, type SourceKind } from './locate.js';
import { DATASET_NAMES, getDatasetSpec, type SplitName } from './registry.js';

export interface FileStatus {
  readonly name: string;
  readonly present: boolean;
  /** Where the file used would be (the first good copy, else the first bad one); null when missing. */
  readonly path: string | null;
  readonly source: SourceKind | null;
  /** true: checksum verified; false: present but failing verification; null: missing or not checked. */
  readonly verified: boolean | null;
  /** What is wrong, when `verified` is false. */
  readonly problem: string | null;
  /** SHA-256 of the uncompressed content, when known without decompressing again. */
  readonly sha256: string | null;
  /** Size in bytes of the uncompressed content. */
  readonly contentBytes: number;
  /** Where it can be downloaded from (a direct URL, or the archive holding it), if anywhere. */
  readonly url: string | null;
}

export interface VariantStatus {
  readonly variant: string;
  readonly canonical: boolean;
  readonly description: string;
  readonly count: number;
  readonly files: readonly FileStatus[];
  /** All files present and verified (or present, when not verifying). */
  readonly ready: boolean;
}

export interface SplitStatus {
  readonly split: SplitName;
  readonly variants: readonly VariantStatus[];
  /** The variant loadDataset would use without downloading, or null when none is ready. */
  readonly selected: string | null;
  /** A local copy of the dataset archive, from which missing files would be unpacked, if any. */
  readonly archive: string | null;
}

export interface DatasetStatus {
  readonly name: string;
  readonly title: string;
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  readonly splits: readonly SplitStatus[];
}

export interface DatasetsStatus {
  /** The folders searched, in order. */
  readonly locations: readonly SearchLocation[];
  /** Where downloads go. */
  readonly cacheDir: string;
  readonly datasets: readonly DatasetStatus[];
}

export interface StatusOptions extends LocateOptions {
  /** Only these datasets (default all). */
  readonly datasets?: readonly string[];
  /** Verify checksums (default true; hashing all files takes a few seconds the first time in a process). */
  readonly verify?: boolean;
}

/** For each dataset and split: whether its files are present, where, and verified. */
export async function datasetStatus(options: StatusOptions = {}): Promise<DatasetsStatus> {
  const locations = searchLocations(options);
  const verify = options.verify ?? true;
  const names = options.datasets ?? DATASET_NAMES;
  const datasets: DatasetStatus[] = [];
  for (const name of names) {
    const spec = getDatasetSpec(name);
    const splits: SplitStatus[] = [];
    for (const splitName of ['train', 'test'] as const) {
      const variants: VariantStatus[] = [];
      for (const v of spec.splits[splitName].variants) {
        const files: FileStatus[] = [];
        for (const f of v.files) {
          const archive = f.archive ? spec.archives?.find((a) => a.name === f.archive) : undefined;
          const url = f.urls?.[0] ?? archive?.urls[0] ?? null;
          const base = { name: f.name, contentBytes: f.content.size, url };
          if (!verify) {
            const c = findCandidates(spec, f, locations)[0];
            files.push({
              ...base,
              present: !!c,
              path: c?.path ?? null,
              source: c?.location.kind ?? null,
              verified: null,
              problem: null,
              sha256: null,
            });
            continue;
          }
          const r = await checkFile(spec, f, locations, false);
          if (r.state === 'missing') {
            files.push({ ...base, present: false, path: null, source: null, verified: null, problem: null, sha256: null });
          } else if (r.state === 'corrupt') {
            files.push({
              ...base,
              present: true,
              path: r.candidate.path,
              source: r.candidate.location.kind,
              verified: false,
              problem: r.problem,
              sha256: null,
            });
          } else {
            files.push({
              ...base,
              present: true,
              path: r.candidate.path,
              source: r.candidate.location.kind,
              verified: true,
              problem: null,
              sha256: r.info.contentSha256 ?? null,
            });
          }
        }
        const ready = files.every((x) => x.present && x.verified !== false);
        variants.push({ variant: v.variant, canonical: v.canonical, description: v.description, count: v.count, files, ready });
      }
      let archive: string | null = null;
      for (const a of spec.archives ?? []) {
        const local = findArchive(spec, a, locations);
        if (local) {
          archive = local.path;
          break;
        }
      }
      splits.push({
        split: splitName,
        variants,
        selected: variants.find((v) => v.ready)?.variant ?? null,
        archive,
      });
    }
    datasets.push({ name, title: spec.title, shape: spec.shape, numClasses: spec.classNames.length, splits });
  }
  return { locations, cacheDir: cacheDirOf(options), datasets };
}
