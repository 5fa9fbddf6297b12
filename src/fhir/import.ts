/**
 * Bulk import of FHIR files (`cauyte import`): a transaction/batch Bundle, or NDJSON (one
 * resource per line). Runs as the platform (a system repository, audited with the file's name):
 * every resource is validated and indexed like any other write, and each file commits wholly or
 * not at all (a transaction bundle, or one transaction for an NDJSON file).
 *
 * `importFiles` overlaps the work: a worker thread (piscina, import-worker.ts) reads and prepares
 * the next Bundle file — ids, references, validation, index rows — while this thread writes the
 * current one (many rows go by COPY, storage-copy.ts); a prepared file is not read again here. A file the worker cannot prepare (not a
 * plain transaction of POSTs, or invalid) is done the ordinary way here, which reports its errors.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { Piscina } from 'piscina';
import { preparedAsBundle, type PreparedBundle } from './import-prepare.ts';
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

export interface ImportOptions {
  /** Worker threads preparing Bundle files ahead (0: all in this thread). Default 1. */
  workers?: number;
  /** After each NDJSON chunk: the file's index, resources done in it and its total. */
  onChunk?: (fileIndex: number, resourcesDone: number, resourcesInFile: number) => void;
  /** After each file is committed. */
  onFile?: (fileIndex: number, summary: ImportSummary) => void;
}

/**
 * Imports files in order, each wholly or not at all, with a worker thread preparing the next
 * Bundle file while one is written. The first file is prepared here (the worker is still starting);
 * keep one open across calls to pay the worker's start once.
 */
export class ImportPipeline {
  private readonly pool?: Piscina;

  constructor(
    private readonly store: FhirStore,
    workers = 1,
  ) {
    if (workers > 0) {
      this.pool = new Piscina({
        filename: new URL('./import-worker.mjs', import.meta.url).href,
        workerData: { paramIds: store.registry.ids() },
        minThreads: workers,
        maxThreads: workers,
      });
    }
  }

  /** The worker's preparation of a Bundle file; undefined (the ordinary path) when it cannot. */
  private ahead(file: string | undefined): Promise<PreparedBundle | undefined> {
    if (!this.pool || !file || file.endsWith('.ndjson')) return Promise.resolve(undefined);
    return (this.pool.run(file) as Promise<PreparedBundle | undefined>).catch(() => undefined);
  }

  async run(files: string[], opts: Omit<ImportOptions, 'workers'> = {}): Promise<ImportSummary[]> {
    const out: ImportSummary[] = [];
    let next: Promise<PreparedBundle | undefined> = Promise.resolve(undefined);
    try {
      for (const [i, file] of files.entries()) {
        const prepared = await next;
        next = this.ahead(files[i + 1]);
        const s = await importFile(this.store, file, (n, inFile) => opts.onChunk?.(i, n, inFile), prepared);
        out.push(s);
        opts.onFile?.(i, s);
      }
    } finally {
      await next; // never left running behind a failure
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}

/** Imports the files in order, each wholly or not at all (see ImportPipeline). */
export async function importFiles(store: FhirStore, files: string[], opts: ImportOptions = {}): Promise<ImportSummary[]> {
  const pipeline = new ImportPipeline(store, files.filter((f) => !f.endsWith('.ndjson')).length > 1 ? (opts.workers ?? 1) : 0);
  try {
    return await pipeline.run(files, opts);
  } finally {
    await pipeline.close();
  }
}
