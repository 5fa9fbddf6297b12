/**
 * Every match of a search, following the next links (one page holds at most 1000): for lists a
 * visit needs whole (a day's charges, a schedule's slots, a prescription's items).
 * Rules: through the caller's repository only (its checks, restriction and audit apply); bounded
 * by `max` so a runaway query cannot hold a request forever.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.ts';

export async function searchAll<T extends Resource>(
  repo: Repository,
  type: T['resourceType'],
  query: Record<string, string | string[]>,
  max = 20_000,
): Promise<T[]> {
  const out: T[] = [];
  let params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) params.append(k, x);
  if (!params.has('_count')) params.set('_count', '1000');
  while (out.length < max) {
    const b = await repo.searchBundle(type, params);
    for (const e of b.entry ?? []) if (e.search?.mode !== 'include') out.push(e.resource as T);
    const next = b.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    params = new URL(next).searchParams;
  }
  return out;
}
