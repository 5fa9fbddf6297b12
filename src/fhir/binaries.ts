/**
 * Binaries and who may point at them. A Binary belongs to the patient its securityContext names
 * (indexed, so reading one checks that patient). A write — a DocumentReference, a Media, any
 * attachment — may point only at Binaries its writer may read, and a resource about a patient
 * only at that patient's Binaries: otherwise a document of one's own patient could carry
 * another patient's bytes, and a download of it would leak them.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { Principal } from '../auth/principal.ts';
import { businessRule } from './outcome.ts';
import type { FhirService } from './service.ts';

const BINARY_REF = /^Binary\/([A-Za-z0-9\-.]{1,64})$/;

/** Binaries a resource points at: Attachment.url "Binary/<id>" and Reference "Binary/<id>" (contained resources included). */
export function binaryReferences(resource: Resource): string[] {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'url' || k === 'reference') && typeof v === 'string') {
          const m = BINARY_REF.exec(v);
          if (m) out.add(m[1]);
        } else walk(v);
      }
    }
  };
  walk(resource);
  return [...out];
}

/**
 * A write may point only at Binaries its writer may read, and a resource about a patient only at
 * that patient's Binaries: otherwise a document of one's own patient could carry another's bytes.
 */
export async function assertBinariesReadable(
  engine: FhirService,
  p: Principal,
  q: Queryable,
  resource: Resource,
  patients: string[],
  createdHere: Set<string> = new Set(),
): Promise<void> {
  if (p.kind === 'system' || resource.resourceType === 'Binary') return;
  for (const id of binaryReferences(resource)) {
    if (createdHere.has(id)) continue; // written by this same request: its own write was checked
    const stored = await engine.storage.readStored('Binary', id, q).catch(() => undefined);
    if (!stored) throw businessRule(`${resource.resourceType} refers to Binary/${id}, which does not exist`);
    const outcome = await engine.guard.assertReadable(q, p, stored);
    const foreign = outcome.patients.filter((x) => !patients.includes(x));
    if (patients.length > 0 && foreign.length > 0) {
      throw businessRule(`Binary/${id} thuộc hồ sơ của người bệnh khác (belongs to another patient's record than this ${resource.resourceType})`);
    }
  }
}
