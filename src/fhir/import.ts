/**
 * Bulk import of FHIR files (`cauyte import`): a transaction/batch Bundle, or NDJSON (one
 * resource per line). Runs as the platform (a system repository, audited with the file's name):
 * every resource is validated and indexed like any other write, and each file commits wholly or
 * not at all (a transaction bundle, or one transaction for an NDJSON file).
 *
 * `importFiles` overlaps the work: worker threads (piscina, import-worker.ts) read and prepare the
 * next Bundle files — ids, references, validation, index rows, and the COPY bytes of the rows when
 * the file goes by COPY (storage-copy.ts renderCopy) — while this thread writes the current one,
 * filling in row ids; a prepared file is not read again here. A file the worker cannot prepare (not a
 * plain transaction of POSTs, or invalid) is done the ordinary way here, which reports its errors.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { Piscina } from 'piscina';
import { fromWire, preparedAsBundle, type PreparedBundle, type PreparedWire } from './import-prepare.ts';
import type { FhirStore } from './store.ts';

export interface ImportSummary {
  file: string;
  resources: number;
  /** Whether the worker thread had prepared the file (else this thread did). */
  preparedAhead?: boolean;
}

/**
 * Imports one file: a transaction/batch Bundle, or NDJSON with one resource per line. onChunk is
 * told how many resources of an NDJSON file were written so far (for progress output; they commit
 * with the whole file). `prepared`: the Bundle file already prepared by the worker.
 */
export async function importFile(
  store: FhirStore,
  file: string,
  onChunk?: (resourcesDone: number, resourcesInFile: number) => void,
  prepared?: PreparedBundle,
): Promise<ImportSummary> {
  const system = store.system(`import of ${basename(file)}`, 'import');
  if (prepared) {
    // The worker read and prepared the file: that read is the only one (what it read is what is written).
    const result = await system.bundle(preparedAsBundle(prepared), { returnMinimal: true, prepared });
    return { file, resources: result.entry?.length ?? 0, preparedAhead: true };
  }
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.ndjson')) {
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const resources = lines.map((l, i) => {
      try {
        return JSON.parse(l) as Resource;
      } catch {
        throw new Error(`${file}: line ${i + 1} is not valid JSON`);
      }
    });
    // One transaction per file: ids kept, references checked once the whole file is in (import-many.ts).
    await system.transaction((repo) => repo.importMany(resources, onChunk));
    return { file, resources: resources.length };
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const result = await system.bundle(bundle, { returnMinimal: true });
  return { file, resources: result.entry?.length ?? 0, preparedAhead: false };
}

/**
 * Worker threads an import uses by default: one per core up to 4 (at least 1). With 2 on the
 * 2-core bench machine the import was no slower than with 1 and its main thread idler
 * (docs/benchmarks.md); more cores let more files be prepared side by side.
 */
export const IMPORT_WORKERS = Math.max(1, Math.min(4, availableParallelism()));

/**
 * The young generation of each import worker, MiB. A worker's garbage (parsed bundles, index rows,
 * COPY text) dies young; with a worker's default young generation (48 MiB on Node 20, its two
 * semi-spaces 16 MiB each) scavenges took a large share of its CPU. At 128 the semi-spaces are
 * 32 MiB: in two A/Bs against the default the process used 5–7 % less CPU a round (the import's
 * rate moved within the noise, docs/benchmarks.md). It costs up to that much more memory per
 * worker while an import runs.
 */
export const IMPORT_WORKER_YOUNG_MB = 128;

export interface ImportOptions {
  /** Worker threads preparing Bundle files ahead, one file each (0: all in this thread). Default: IMPORT_WORKERS. */
  workers?: number;
  /** After each NDJSON chunk: the file's index, resources done in it and its total. */
  onChunk?: (fileIndex: number, resourcesDone: number, resourcesInFile: number) => void;
  /** After each file is committed. */
  onFile?: (fileIndex: number, summary: ImportSummary) => void;
}

/**
 * Imports files in order, each wholly or not at all, with a worker thread preparing the next
 * Bundle file while one is written. The first file of a fresh pipeline is prepared here (the
 * workers are still starting); keep one open across calls to pay the workers' start once — once
 * they have prepared a file, a call's first file is theirs too.
 */
export class ImportPipeline {
  private readonly pool?: Piscina;

  constructor(
    private readonly store: FhirStore,
    private readonly workers = IMPORT_WORKERS,
    /** The workers' young generation, MiB (null: Node's default, for comparisons). */
    youngGenerationMb: number | null = IMPORT_WORKER_YOUNG_MB,
  ) {
    if (workers > 0) {
      this.pool = new Piscina({
        filename: new URL('./import-worker.mjs', import.meta.url).href,
        // The worker renders COPY rows for files this database writes by COPY.
        workerData: { paramIds: store.registry.ids(), copyFrom: store.copyMinimum },
        minThreads: workers,
        maxThreads: workers,
        ...(youngGenerationMb === null ? {} : { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } }),
      });
    }
  }

  /** The worker's preparation of a Bundle file; undefined (the ordinary path) when it cannot. */
  private ahead(file: string | undefined): Promise<PreparedBundle | undefined> {
    if (!this.pool || !file || file.endsWith('.ndjson')) return Promise.resolve(undefined);
    return (this.pool.run(file) as Promise<PreparedWire | undefined>).then((w) => w && fromWire(w)).catch(() => undefined);
  }

  async run(files: string[], opts: Omit<ImportOptions, 'workers'> = {}): Promise<ImportSummary[]> {
    const out: ImportSummary[] = [];
    // As many files prepared ahead as there are worker threads (each works on one).
    const ahead = new Map<number, Promise<PreparedBundle | undefined>>();
    const want = (i: number) => {
      for (let k = i; k < Math.min(files.length, i + this.workers); k++) if (!ahead.has(k)) ahead.set(k, this.ahead(files[k]));
    };
    // Workers that have prepared a file are running: they take the first file too. Fresh ones are
    // still starting (tsx, the registry), so this thread prepares the first file meanwhile.
    if ((this.pool?.completed ?? 0) > 0) want(0);
    try {
      for (const [i, file] of files.entries()) {
        const prepared = await ahead.get(i);
        ahead.delete(i);
        want(i + 1);
        const s = await importFile(this.store, file, (n, inFile) => opts.onChunk?.(i, n, inFile), prepared);
        out.push(s);
        opts.onFile?.(i, s);
      }
    } finally {
      await Promise.all(ahead.values()); // never left running behind a failure
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}

/** Imports the files in order, each wholly or not at all (see ImportPipeline). */
export async function importFiles(store: FhirStore, files: string[], opts: ImportOptions = {}): Promise<ImportSummary[]> {
  const pipeline = new ImportPipeline(store, files.filter((f) => !f.endsWith('.ndjson')).length > 1 ? (opts.workers ?? IMPORT_WORKERS) : 0);
  try {
    return await pipeline.run(files, opts);
  } finally {
    await pipeline.close();
  }
}
