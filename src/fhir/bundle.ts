/**
 * Bundles: `batch` (each entry on its own) and `transaction` (all or nothing, in one database
 * transaction, with urn:uuid references resolved and conditional create via ifNoneExist).
 * Entries run in the order FHIR prescribes: DELETE, POST, PUT, GET; responses keep entry order.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { FhirError, badRequest, tooLarge } from './outcome.ts';
import type { PreparedWrite } from './storage.ts';
import type { FhirService } from './service.ts';
import type { Principal } from '../auth/principal.ts';
import { LIMITS } from './limits.ts';
import type { PreparedBundle } from './import-prepare.ts';

export interface BundleOptions {
  /** Prefer: return=minimal leaves the resources out of the response entries. */
  returnMinimal?: boolean;
  /**
   * The platform's own imports: ids, resolved references, validation and index rows already done
   * (import-prepare.ts, in a worker thread). Used only for a system principal.
   */
  prepared?: PreparedBundle;
}

interface ParsedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  type: string;
  id?: string;
  query?: URLSearchParams;
}

const ORDER = { DELETE: 0, POST: 1, PUT: 2, GET: 3 } as const;

/** Every entry is checked and audited for the principal as if sent on its own. */
export async function processBundle(service: FhirService, who: Principal, bundle: unknown, opts: BundleOptions = {}): Promise<Bundle> {
  if (typeof bundle !== 'object' || bundle === null || (bundle as Bundle).resourceType !== 'Bundle') {
    throw badRequest('POST to the base URL needs a Bundle of type batch or transaction');
  }
  const b = bundle as Bundle;
  if (b.type !== 'batch' && b.type !== 'transaction')
    throw badRequest(`Bundle.type must be batch or transaction, got ${JSON.stringify(b.type ?? null)}`, ['Bundle.type']);
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw badRequest('Bundle.entry must be an array', ['Bundle.entry']);
  const entries = b.entry ?? [];
  // The platform's own imports (cauyte import, the demo seed) may be larger; requests from outside may not.
  if (who.kind === 'actor' && entries.length > LIMITS.bundleEntries) {
    throw tooLarge(
      `A ${b.type} Bundle may hold at most ${LIMITS.bundleEntries} entries (this one has ${entries.length}); split it, or use cauyte import for bulk loads`,
    );
  }
  const parsed = entries.map((e, i) => parseEntry(service, e, i));
  return b.type === 'transaction' ? transaction(service, who, entries, parsed, opts) : batch(service, who, entries, parsed, opts);
}

function parseEntry(service: FhirService, entry: BundleEntry, index: number): ParsedRequest {
  const where = `Bundle.entry[${index}]`;
  const method = entry?.request?.method;
  const url = entry?.request?.url;
  if (!method || !['GET', 'POST', 'PUT', 'DELETE'].includes(method))
    throw badRequest(`${where}.request.method must be GET, POST, PUT or DELETE`, [`${where}.request.method`]);
  if (typeof url !== 'string' || url.length === 0) throw badRequest(`${where}.request.url is required`, [`${where}.request.url`]);
  const [path, queryString] = url.replace(/^\/+/, '').split('?', 2);
  const [type, id, ...rest] = path.split('/');
  if (!service.isResourceType(type) || rest.length > 0)
    throw badRequest(`${where}.request.url "${url}" is not Type, Type/id or Type?query`, [`${where}.request.url`]);
  const m = method as ParsedRequest['method'];
  if ((m === 'POST' || m === 'PUT') && (typeof entry.resource !== 'object' || entry.resource === null)) {
    throw badRequest(`${where}.resource is required for ${m}`, [`${where}.resource`]);
  }
  if (m === 'POST' && id) throw badRequest(`${where}: POST goes to a type, not Type/id`, [`${where}.request.url`]);
  if ((m === 'PUT' || m === 'DELETE') && !id && !queryString) throw badRequest(`${where}: ${m} needs Type/id or Type?search`, [`${where}.request.url`]);
  if (m === 'DELETE' && !id) throw badRequest(`${where}: conditional delete is not supported`, [`${where}.request.url`]);
  return { method: m, type, id, query: queryString !== undefined ? new URLSearchParams(queryString) : undefined };
}

function withEntry(err: unknown, index: number): FhirError {
  if (err instanceof FhirError) {
    return new FhirError(
      err.status,
      err.issues.map((i) => ({
        ...i,
        diagnostics: `Bundle.entry[${index}]: ${i.diagnostics ?? i.details?.text ?? ''}`,
        details: { text: `Bundle.entry[${index}]: ${i.details?.text ?? i.diagnostics ?? ''}` },
      })),
    );
  }
  return err as FhirError;
}

async function transaction(service: FhirService, who: Principal, entries: BundleEntry[], parsed: ParsedRequest[], opts: BundleOptions): Promise<Bundle> {
  const responses: BundleEntry[] = new Array(entries.length);
  const order = entries.map((_, i) => i).sort((a, b) => ORDER[parsed[a].method] - ORDER[parsed[b].method] || a - b);

  const pre = who.kind === 'system' && opts.prepared?.ids.length === entries.length ? opts.prepared : undefined;
  return service.db.transaction(async (tx) => {
    // 1. Decide the id behind every fullUrl: conditional creates may resolve to existing resources.
    const idMap = new Map<string, string>();
    const skipCreate = new Set<number>();
    const newIds = new Map<number, string>();
    for (const i of order) {
      const p = parsed[i];
      const fullUrl = entries[i].fullUrl;
      if (p.method !== 'POST') continue;
      const ifNoneExist = entries[i].request?.ifNoneExist;
      if (ifNoneExist) {
        const match = await (async () => {
          service.guard.assertAction(who, 'create', p.type);
          return service.ifNoneExistMatch(who, tx, p.type, ifNoneExist);
        })().catch((e) => {
          throw withEntry(e, i);
        });
        if (match) {
          skipCreate.add(i);
          if (fullUrl) idMap.set(fullUrl, `${p.type}/${match.id}`);
          responses[i] = {
            response: { status: '200 OK', location: `${p.type}/${match.id}/_history/${match.meta?.versionId}`, etag: `W/"${match.meta?.versionId}"` },
            ...(opts.returnMinimal ? {} : { resource: match }),
          };
          continue;
        }
      }
      const id = pre?.ids[i] ?? randomUUID();
      newIds.set(i, id);
      if (fullUrl) idMap.set(fullUrl, `${p.type}/${id}`);
    }
    for (const i of order) {
      const p = parsed[i];
      const fullUrl = entries[i].fullUrl;
      if (p.method === 'PUT' && p.id && fullUrl) idMap.set(fullUrl, `${p.type}/${p.id}`);
    }

    // 2. Rewrite references, validate and index every new resource before writing anything.
    const now = pre ? new Date(pre.lastUpdated) : new Date();
    const creates: { index: number; prepared: PreparedWrite }[] = [];
    const guard = service.guard;
    for (const i of order) {
      const p = parsed[i];
      if (p.method !== 'POST' || skipCreate.has(i)) continue;
      try {
        const done = pre?.writes[i];
        let resource = done?.resource ?? resolveBundleReferences(entries[i].resource!, idMap);
        if (resource.resourceType !== p.type) throw badRequest(`resourceType ${resource.resourceType} does not match request.url ${p.type}`);
        guard.assertAction(who, 'create', p.type);
        resource = guard.prepareCreate(who, resource);
        service.ownership.assertMayWrite(who, undefined, resource);
        // A prepared write is the resource as validated and indexed: a system principal's prepareCreate changes nothing.
        creates.push({ index: i, prepared: done && resource === done.resource ? done : service.storage.prepareCreate(resource, newIds.get(i)!, now) });
      } catch (e) {
        throw withEntry(e, i);
      }
    }
    // New patients in this bundle may be referenced by the rest of it; others must be reachable already.
    const createdPatients = new Set(creates.filter((c) => c.prepared.resource.resourceType === 'Patient').map((c) => c.prepared.resource.id!));
    const createdBinaries = new Set(creates.filter((c) => c.prepared.resource.resourceType === 'Binary').map((c) => c.prepared.resource.id!));
    const touchedPatients = new Set<string>();
    let viaBreakGlass = false;
    for (const c of creates) {
      try {
        const o = await guard.assertWritable(tx, who, c.prepared.resource, c.prepared.rows, createdPatients);
        await service.assertBinariesReadable(who, tx, c.prepared.resource, o.patients, createdBinaries);
        o.patients.forEach((x) => touchedPatients.add(x));
        viaBreakGlass ||= o.viaBreakGlass;
      } catch (e) {
        throw withEntry(e, c.index);
      }
    }

    // 3. Execute in FHIR order; references are checked once everything is written.
    const written: Resource[] = creates.map((c) => c.prepared.resource);
    for (const i of order) {
      const p = parsed[i];
      try {
        if (p.method === 'DELETE') {
          await service.delete(who, p.type, p.id!, tx);
          responses[i] = { response: { status: '204 No Content' } };
        } else if (p.method === 'POST' && creates.length > 0 && creates[0].index === i) {
          // Rows rendered ahead (import-prepare.ts) stand for exactly the prepared writes, in entry order.
          const asPrepared = pre?.copy && creates.length === pre.writes.length && creates.every((c, k) => c.index === k && c.prepared === pre.writes[k]);
          await service.storage.insertPrepared(
            tx,
            creates.map((c) => c.prepared),
            { rendered: asPrepared ? pre.copy : undefined },
          );
          for (const c of creates) responses[c.index] = createdEntry(c.prepared.resource, opts);
          creates.length = 0;
        } else if (p.method === 'PUT') {
          const resource = resolveBundleReferences(entries[i].resource!, idMap);
          const result = p.id
            ? await service.update(
                who,
                p.type,
                p.id,
                resource.id === p.id ? resource : badId(resource, p.id),
                { ifMatch: entries[i].request?.ifMatch, deferReferences: true },
                tx,
              )
            : await service.conditionalUpdate(who, p.type, p.query!, resource, tx);
          written.push(result.resource);
          responses[i] = result.created ? createdEntry(result.resource, opts) : okEntry(result.resource, opts);
        } else if (p.method === 'GET') {
          responses[i] = await getEntry(service, who, p, tx);
        }
      } catch (e) {
        throw withEntry(e, i);
      }
    }
    await service.storage.assertReferencesExist(tx, written);
    if (written.length > 0) {
      const counts: Record<string, number> = {};
      for (const c of written) counts[c.resourceType] = (counts[c.resourceType] ?? 0) + 1;
      await guard.record(tx, who, {
        action: 'create',
        outcome: 'success',
        resourceType: 'Bundle',
        patientIds: [...touchedPatients],
        breakGlass: viaBreakGlass,
        detail: { transaction: true, created: counts },
      });
    }
    return { resourceType: 'Bundle', type: 'transaction-response', entry: responses } as Bundle;
  });
}

async function batch(service: FhirService, who: Principal, entries: BundleEntry[], parsed: ParsedRequest[], opts: BundleOptions): Promise<Bundle> {
  const responses: BundleEntry[] = new Array(entries.length);
  const order = entries.map((_, i) => i).sort((a, b) => ORDER[parsed[a].method] - ORDER[parsed[b].method] || a - b);
  for (const i of order) {
    const p = parsed[i];
    try {
      if (p.method === 'DELETE') {
        await service.delete(who, p.type, p.id!);
        responses[i] = { response: { status: '204 No Content' } };
      } else if (p.method === 'POST') {
        const ifNoneExist = entries[i].request?.ifNoneExist;
        const result = await service.create(who, p.type, entries[i].resource, { ifNoneExist });
        responses[i] = result.created ? createdEntry(result.resource, opts) : okEntry(result.resource, opts);
      } else if (p.method === 'PUT') {
        const result = p.id
          ? await service.update(who, p.type, p.id, entries[i].resource, { ifMatch: entries[i].request?.ifMatch })
          : await service.conditionalUpdate(who, p.type, p.query!, entries[i].resource);
        responses[i] = result.created ? createdEntry(result.resource, opts) : okEntry(result.resource, opts);
      } else {
        responses[i] = await getEntry(service, who, p);
      }
    } catch (e) {
      const err = toEntryError(e);
      responses[i] = { response: { status: String(err.status), outcome: err.outcome as OperationOutcome } };
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: responses } as Bundle;
}

/** A batch entry's failure: FHIR errors keep their status; access denials are 401/403. */
function toEntryError(e: unknown): FhirError {
  if (e instanceof FhirError) return e;
  const status = (e as { status?: number }).status;
  if (status === 401 || status === 403)
    return new FhirError(status, [{ severity: 'error', code: status === 401 ? 'login' : 'forbidden', diagnostics: (e as Error).message }]);
  return new FhirError(500, [{ severity: 'error', code: 'exception', diagnostics: 'Internal error while processing this entry' }]);
}

async function getEntry(service: FhirService, who: Principal, p: ParsedRequest, tx?: Queryable): Promise<BundleEntry> {
  if (p.id) {
    const resource = await service.read(who, p.type, p.id, tx);
    return { resource, response: { status: '200 OK', etag: `W/"${resource.meta?.versionId}"` } };
  }
  const bundle = await service.searchBundle(who, p.type, p.query ?? new URLSearchParams(), tx);
  return { resource: bundle, response: { status: '200 OK' } };
}

function badId(resource: Resource, urlId: string): never {
  throw badRequest(`The resource id (${JSON.stringify(resource.id ?? null)}) must equal the id in request.url (${urlId})`, ['id']);
}

function createdEntry(resource: Resource, opts: BundleOptions): BundleEntry {
  const v = resource.meta?.versionId;
  return {
    ...(opts.returnMinimal ? {} : { resource }),
    response: {
      status: '201 Created',
      location: `${resource.resourceType}/${resource.id}/_history/${v}`,
      etag: `W/"${v}"`,
      lastModified: resource.meta?.lastUpdated,
    },
  };
}

function okEntry(resource: Resource, opts: BundleOptions): BundleEntry {
  const v = resource.meta?.versionId;
  return {
    ...(opts.returnMinimal ? {} : { resource }),
    response: {
      status: '200 OK',
      location: `${resource.resourceType}/${resource.id}/_history/${v}`,
      etag: `W/"${v}"`,
      lastModified: resource.meta?.lastUpdated,
    },
  };
}

/** A reference that can only name an entry of a transaction (its fullUrl). */
const BUNDLE_REFERENCE = /^urn:(uuid|oid):/;

/**
 * The resource with every Reference.reference that names a fullUrl of the transaction replaced by
 * the resource's real Type/id, or a 400 naming the first urn:uuid / urn:oid reference that names no
 * fullUrl — one walk for both. A copy when the transaction has fullUrls, else the input itself; the
 * input is never changed unless `inPlace` (for a caller that owns it: the import's worker, which
 * parsed it from the file).
 */
export function resolveBundleReferences<T extends Resource>(resource: T, idMap: Map<string, string>, opts: { inPlace?: boolean } = {}): T {
  if (idMap.size === 0) {
    assertNoBundleReferences(resource);
    return resource;
  }
  let bad: string | undefined;
  const resolved = (v: string): string => {
    const to = idMap.get(v);
    if (to === undefined && bad === undefined && BUNDLE_REFERENCE.test(v)) bad = v;
    return to ?? v;
  };
  const copy = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(copy);
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const k in node) {
        if (!Object.hasOwn(node, k)) continue;
        const v = (node as Record<string, unknown>)[k];
        const value = k === 'reference' && typeof v === 'string' ? resolved(v) : copy(v);
        // An own property even for a key like __proto__ (assignment would set the copy's prototype
        // and hide the key from validation, which refuses it).
        if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
        else out[k] = value;
      }
      return out;
    }
    return node;
  };
  const inPlace = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(inPlace);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const v = o[k];
        if (k === 'reference' && typeof v === 'string') {
          const to = resolved(v);
          if (to !== v) o[k] = to;
        } else if (v && typeof v === 'object') inPlace(v);
      }
    }
  };
  let out = resource;
  if (opts.inPlace) inPlace(resource);
  else out = copy(resource) as T;
  if (bad !== undefined) throw badRequest(`Reference ${bad} does not name any fullUrl in this transaction`);
  return out;
}

/** A urn:uuid / urn:oid reference left after resolution points at nothing this server holds. */
export function assertNoBundleReferences(resource: Resource): void {
  const bad: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'reference' && typeof v === 'string' && BUNDLE_REFERENCE.test(v)) bad.push(v);
        else walk(v);
      }
    }
  };
  walk(resource);
  if (bad.length > 0) throw badRequest(`Reference ${bad[0]} does not name any fullUrl in this transaction`);
}
