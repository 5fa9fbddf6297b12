/**
 * Bulk import of FHIR files (`cauyte import`): a transaction/batch Bundle, or NDJSON (one
 * resource per line). Runs as the platform (a system repository, audited with the file's name):
 * every resource is validated and indexed like any other write.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirStore } from './store.ts';

export interface ImportSummary {
  file: string;
  resources: number;
}

/**
 * Imports one file: a transaction/batch Bundle, or NDJSON with one resource per line. onChunk is
 * told how many resources of an NDJSON file were written so far (for progress output; they commit
 * with the whole file).
 */
export async function importFile(store: FhirStore, file: string, onChunk?: (resourcesDone: number, resourcesInFile: number) => void): Promise<ImportSummary> {
  const text = readFileSync(file, 'utf8');
  const system = store.system(`import of ${basename(file)}`, 'import');
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
    // Resources that carry an id keep it (exports reference each other by id); others get one.
    // One transaction per file: references are checked once the whole file is in.
    const CHUNK = 500;
    await system.transaction(async (repo) => {
      for (let i = 0; i < resources.length; i += CHUNK) {
        const chunk = resources.slice(i, i + CHUNK);
        const withoutId = chunk.filter((r) => !r.id);
        if (withoutId.length) await repo.createMany(withoutId);
        for (const r of chunk.filter((r) => r.id)) await repo.updateAt(r.resourceType, r.id!, r);
        onChunk?.(Math.min(resources.length, i + CHUNK), resources.length);
      }
    });
    return { file, resources: resources.length };
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const result = await system.bundle(bundle, { returnMinimal: true });
  return { file, resources: result.entry?.length ?? 0 };
}
