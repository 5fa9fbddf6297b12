/**
 * History: of one resource (`Type/id/_history`), of a type, or of the whole system. Type and
 * system history are for principals that reach every patient, and then only of the types they
 * may read; instance history leaves out the versions that named a patient out of reach. Pages
 * by keyset on (last_updated, rid, version).
 */
import type { Bundle, BundleLink } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { Principal } from '../auth/principal.ts';
import { LIMITS } from './limits.ts';
import { badRequest } from './outcome.ts';
import type { FhirService } from './service.ts';
import type { HistoryEntry } from './storage.ts';

export async function historyBundle(
  engine: FhirService,
  p: Principal,
  opts: { type?: string; id?: string; query: URLSearchParams },
  tx?: Queryable,
): Promise<Bundle> {
  if (opts.type) engine.assertType(opts.type);
  if (opts.id) engine.assertId(opts.id);
  const countText = opts.query.get('_count');
  if (countText !== null && !/^\d+$/.test(countText)) throw badRequest('_count must be a whole number');
  const count = Math.min(Number(countText ?? 50) || 50, LIMITS.historyCount);
  const sinceText = opts.query.get('_since');
  const since = sinceText ? new Date(sinceText) : undefined;
  if (since && Number.isNaN(since.getTime())) throw badRequest('_since must be an instant like 2026-01-01T00:00:00Z');
  const cursor = opts.query.get('_cursor');
  let before: { at: Date; rid: number; vid: number } | undefined;
  if (cursor) {
    const parts = cursor.split('.');
    if (parts.length !== 3 || !parts.every((x) => /^\d{1,18}$/.test(x))) throw badRequest('_cursor is not valid (use the next link exactly as returned)');
    before = { at: new Date(Number(parts[0]) / 1000), rid: Number(parts[1]), vid: Number(parts[2]) };
  }
  let types: string[] | undefined;
  const page = await engine.storage.within(tx, async (q) => {
    if (opts.id) {
      // Instance history: whoever may read the resource may read those versions that name only patients they reach.
      engine.guard.assertAction(p, 'read', opts.type!);
      const stored = await engine.storage.readStored(opts.type!, opts.id, q).catch(() => undefined);
      if (stored) await engine.guard.assertReadable(q, p, stored);
      else engine.guard.assertHistoryAllowed(p, opts.type);
    } else {
      engine.guard.assertHistoryAllowed(p, opts.type);
      // System or type history: only the types this principal may read (role and token scopes).
      if (!opts.type) types = engine.readableTypes(p);
    }
    const entries = (await engine.storage.history({ resourceType: opts.type, id: opts.id, since, count: count + 1, before, types }, q)) as (HistoryEntry & {
      rid: number;
    })[];
    const raw = entries.slice(0, count);
    const visible: (HistoryEntry & { rid: number })[] = [];
    const patients = new Set<string>();
    let glass = false;
    for (const h of raw) {
      if (!engine.guard.mayRead(p, h.resourceType)) continue;
      if (h.resource && opts.id) {
        try {
          const o = await engine.guard.assertReadable(q, p, { resource: h.resource, patients: engine.versionPatients(h.resource) });
          o.patients.forEach((x) => patients.add(x));
          glass ||= o.viaBreakGlass;
        } catch {
          continue; // a version that named a patient out of reach stays out of the answer
        }
      }
      visible.push(h);
    }
    await engine.guard.record(q, p, {
      action: opts.id ? 'read' : 'search',
      outcome: 'success',
      resourceType: opts.type,
      resourceId: opts.id,
      patientIds: [...patients],
      breakGlass: glass,
      detail: { history: true, entries: visible.length },
    });
    return { shown: visible, more: entries.length > count, last: raw[raw.length - 1] };
  });
  const path = [opts.type, opts.id, '_history'].filter(Boolean).join('/');
  const links: BundleLink[] = [{ relation: 'self', url: engine.link(path, opts.query) }];
  if (page.more && page.last) {
    const next = new URLSearchParams(opts.query);
    next.set('_cursor', `${page.last.lastUpdated.getTime() * 1000}.${page.last.rid}.${page.last.versionId}`);
    links.push({ relation: 'next', url: engine.link(path, next) });
  }
  return {
    resourceType: 'Bundle',
    type: 'history',
    link: links,
    entry: page.shown.map((h) => ({
      fullUrl: `${engine.fhirBase}/${h.resourceType}/${h.id}`,
      ...(h.resource ? { resource: h.resource } : {}),
      request: { method: h.method, url: h.method === 'POST' ? h.resourceType : `${h.resourceType}/${h.id}` },
      response: {
        status: h.deleted ? '204 No Content' : h.versionId === 1 ? '201 Created' : '200 OK',
        etag: `W/"${h.versionId}"`,
        lastModified: h.lastUpdated.toISOString(),
      },
    })),
  };
}
