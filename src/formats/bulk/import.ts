/**
 * `$import` of NDJSON (a simplified, synchronous form of Bulk Data import): the request body is
 * NDJSON (`application/fhir+ndjson`), one resource per line, as `$export` writes it; every
 * resource keeps its id and is written through the caller's repository in one transaction, the
 * referenced ones first, so an export of one server loads into another.
 *
 * Rules: only a token with a system/ scope that may create (system/*.write, system/*.cruds); every
 * resource is validated, checked and audited like any other write; one bad line rolls back all.
 * At most MAX_LINES lines per request (the body limit applies too).
 */
import type { Resource } from '@medplum/fhirtypes';
import { AccessDenied } from '../../auth/access.ts';
import type { AccessContext } from '../../auth/actor.ts';
import { badRequest, tooLarge } from '../../fhir/outcome.ts';
import type { FhirStore } from '../../fhir/store.ts';

export const MAX_LINES = 100_000;

/** The `Type/id` references a resource holds, as written in its JSON. */
function referencesOf(r: Resource): string[] {
  return [...JSON.stringify(r).matchAll(/"reference":"([A-Za-z]+\/[A-Za-z0-9\-.]+)"/g)].map((m) => m[1]);
}

/**
 * Resources ordered so that each comes after the resources it references (cycles broken
 * arbitrarily). A depth-first walk with its own stack, not recursion: a chain of 100,000 links
 * (Patient.link to the next) is as fine as a short one.
 */
export function dependencyOrder(resources: Resource[]): Resource[] {
  const byKey = new Map<string, Resource>(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
  const out: Resource[] = [];
  const seen = new Set<string>();
  for (const start of byKey.keys()) {
    if (seen.has(start)) continue;
    seen.add(start);
    // Each frame: a resource and the references of it not yet walked.
    const stack: { key: string; refs: string[] }[] = [{ key: start, refs: referencesOf(byKey.get(start)!) }];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = top.refs.pop();
      if (next === undefined) {
        out.push(byKey.get(top.key)!);
        stack.pop();
      } else if (!seen.has(next) && byKey.has(next)) {
        seen.add(next);
        stack.push({ key: next, refs: referencesOf(byKey.get(next)!) });
      }
    }
  }
  return out;
}

export function assertImporter(ctx: AccessContext): void {
  if (!ctx.actor.scopes?.some((s) => s.context === 'system' && s.actions.has('create')))
    throw new AccessDenied('$import needs a SMART backend-services token with a system/ write scope');
}

export async function importNdjson(store: FhirStore, ctx: AccessContext, body: string): Promise<Record<string, number>> {
  assertImporter(ctx);
  const lines = body.split('\n').filter((l) => l.trim());
  if (lines.length > MAX_LINES) throw tooLarge(`At most ${MAX_LINES} resources per $import`);
  const resources = lines.map((l, i) => {
    try {
      const r = JSON.parse(l) as Resource;
      if (!r?.resourceType || !r.id) throw new Error('no resourceType or id');
      return r;
    } catch (e) {
      throw badRequest(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
  const counts: Record<string, number> = {};
  await store.as(ctx).transaction(async (tx) => {
    for (const r of dependencyOrder(resources)) {
      await tx.updateAt(r.resourceType, r.id!, { ...r, meta: r.meta?.tag || r.meta?.security ? { tag: r.meta.tag, security: r.meta.security } : undefined });
      counts[r.resourceType] = (counts[r.resourceType] ?? 0) + 1;
    }
  });
  return counts;
}
