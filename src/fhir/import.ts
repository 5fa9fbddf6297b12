/** Bulk import of FHIR files: a transaction/batch Bundle, or NDJSON (one resource per line). */
import { readFileSync } from 'node:fs';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirService } from './service.ts';

export interface ImportSummary {
  file: string;
  resources: number;
}

/** Imports one file: a transaction/batch Bundle, or NDJSON with one resource per line. */
export async function importFile(fhir: FhirService, file: string): Promise<ImportSummary> {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.ndjson')) {
    const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
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
    await fhir.db.transaction(async (tx) => {
      const written: Resource[] = [];
      for (let i = 0; i < resources.length; i += CHUNK) {
        const chunk = resources.slice(i, i + CHUNK);
        const withoutId = chunk.filter((r) => !r.id);
        if (withoutId.length) written.push(...(await fhir.repo.createMany(withoutId, tx)));
        for (const r of chunk.filter((r) => r.id)) written.push((await fhir.repo.update(r, {}, tx)).resource);
      }
      await fhir.repo.assertReferencesExist(tx, written);
    });
    return { file, resources: resources.length };
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const result = await fhir.processBundle(bundle, { returnMinimal: true });
  return { file, resources: result.entry?.length ?? 0 };
}

