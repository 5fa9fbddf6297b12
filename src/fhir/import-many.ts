/**
 * An NDJSON import's resources written as one unit (`Repository.importMany`, inside the import's
 * transaction): resources that carry an id keep it (exports reference each other by id). Those
 * whose id is new — and those without one, which get a new id — are created together in chunks
 * (many at once go by COPY, storage-copy.ts); an id already stored, or repeated in the file, is
 * an update of that resource, one by one, as before. References are checked once, after the last
 * chunk, so a file may refer forward. Every resource gets the same checks as a create or update
 * through the engine; the audit entry is the transaction's (one per file, with its patients).
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { Principal } from '../auth/principal.ts';
import { assertNoBundleReferences } from './bundle.ts';
import type { FhirService } from './service.ts';
import type { PreparedWrite } from './storage.ts';

const CHUNK = 1000;

export async function importResources(
  service: FhirService,
  p: Principal,
  inputs: Resource[],
  q: Queryable,
  onChunk?: (done: number, total: number) => void,
): Promise<Resource[]> {
  const written: Resource[] = [];
  const seen = new Set<string>();
  for (let start = 0; start < inputs.length; start += CHUNK) {
    const chunk = inputs.slice(start, start + CHUNK);
    for (const r of chunk) {
      if (typeof r !== 'object' || r === null) throw new Error('an NDJSON line must hold a JSON object');
      service.assertType(r.resourceType);
      if (r.id !== undefined) service.assertId(r.id);
    }
    const stored = await service.storage.existing(
      q,
      chunk.filter((r) => r.id !== undefined),
    );
    const creates: Resource[] = [];
    const updates: Resource[] = [];
    for (const r of chunk) {
      const key = `${r.resourceType}/${r.id}`;
      if (r.id !== undefined && (stored.has(key) || seen.has(key))) updates.push(r);
      else creates.push(r);
      if (r.id !== undefined) seen.add(key);
    }
    if (creates.length) written.push(...(await createAll(service, p, creates, q)));
    for (const r of updates) written.push((await service.update(p, r.resourceType, r.id!, r, { deferReferences: true }, q)).resource);
    onChunk?.(Math.min(inputs.length, start + CHUNK), inputs.length);
  }
  await service.storage.assertReferencesExist(q, written);
  return written;
}

/** New resources (the file's id, or a new one) checked like createMany's, written in one go. */
async function createAll(service: FhirService, p: Principal, inputs: Resource[], q: Queryable): Promise<Resource[]> {
  const now = new Date();
  const guard = service.guard;
  const prepared: PreparedWrite[] = inputs.map((input) => {
    guard.assertAction(p, 'create', input.resourceType);
    assertNoBundleReferences(input);
    const r = guard.prepareCreate(p, input);
    service.ownership.assertMayWrite(p, undefined, r);
    return service.storage.prepareCreate(r, input.id ?? randomUUID(), now);
  });
  const created = new Set(prepared.filter((x) => x.resource.resourceType === 'Patient').map((x) => x.resource.id!));
  const patients = new Set<string>();
  let glass = false;
  for (const x of prepared) {
    const o = await guard.assertWritable(q, p, x.resource, x.rows, created);
    await service.assertBinariesReadable(p, q, x.resource, o.patients);
    o.patients.forEach((id) => patients.add(id));
    glass ||= o.viaBreakGlass;
  }
  const audit = guard.entryFor(p, {
    action: 'create',
    outcome: 'success',
    patientIds: [...patients],
    breakGlass: glass,
    detail: { count: prepared.length, import: true },
  });
  await service.storage.insertPrepared(q, prepared, { audit });
  return prepared.map((x) => x.resource);
}
