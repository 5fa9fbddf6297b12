/**
 * The FHIR interactions (what the REST API, bundle entries and domain repositories do), over the
 * storage and search. Internal to src/fhir: everything else reaches it through a Repository
 * (repository.ts), built by the FhirStore (store.ts) for one principal. Every method takes that
 * principal: the guard checks role, scopes and patient relationship and the audit entry is
 * appended in the same transaction; nothing here can run without them.
 *
 * Type/system/instance history (history.ts), Patient/$everything (everything.ts) and the Binary
 * rule (binaries.ts) are operations of their own.
 *
 * Rules that hold for every principal but the system:
 *   - change rules (e.g. a signed document never changes) — refused with 409;
 *   - workflow ownership: a resource whose state a domain owns (a consult's Task, a booking's
 *     Appointment, …) changes only through a repository acting for that domain — 422 naming the
 *     route to use;
 *   - every resource in every answer (includes, history, $everything) is one the principal may read.
 */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../db/db.ts';
import type { FhirGuard } from '../auth/guard.ts';
import type { Principal } from '../auth/principal.ts';
import { assertDirectoryWrite } from '../auth/directory-scope.ts';
import { assertNoBundleReferences, processBundle, type BundleOptions } from './bundle.ts';
import { isResourceType, loadDefinitions } from './definitions.ts';
import { badRequest, notFound, preconditionFailed } from './outcome.ts';
import { assertBinariesReadable } from './binaries.ts';
import { everything } from './everything.ts';
import { historyBundle } from './history.ts';
import type { OwnershipRules } from './ownership.ts';
import { FhirStorage, ID_PATTERN, parseStored, type WriteResult } from './storage.ts';
import { search, type QueryParams, type SearchMatch } from './search.ts';
import { SearchRegistry } from './searchparams.ts';
import { fillPatients } from './patients-fill.ts';

export interface SearchBundleOptions {
  /** Path (below the FHIR base) the links point at, e.g. "Patient" or "Patient/1/$everything". */
  linkPath?: string;
}

/** A domain rule on changes made through plain FHIR (e.g. a signed document may not change): throw to refuse. */
export type ChangeRule = (existing: Resource, next: Resource | undefined) => void;

export class FhirService {
  readonly changeRules: ChangeRule[] = [];

  constructor(
    readonly storage: FhirStorage,
    readonly registry: SearchRegistry,
    readonly fhirBase: string,
    readonly compartment: Map<string, number[]>,
    readonly guard: FhirGuard,
    readonly ownership: OwnershipRules,
  ) {}

  static async prepare(db: Db): Promise<{ storage: FhirStorage; registry: SearchRegistry; compartment: Map<string, number[]> }> {
    loadDefinitions();
    const registry = await SearchRegistry.load(db);
    const storage = new FhirStorage(db, registry);
    // A parameter added since the last start (e.g. one of ours): index what is already stored.
    for (const type of registry.typesToReindex) await storage.reindexType(type);
    // Rows stored before migration 240, or after a change of the compartment, learn whose data they are (a no-op otherwise).
    await fillPatients(db, registry);
    return { storage, registry, compartment: registry.compartment };
  }

  get db(): Db {
    return this.storage.db;
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

  /** Change rules and workflow ownership, for a write by anyone but the system. */
  private assertChangeAllowed(p: Principal, existing: Resource | undefined, next: Resource | undefined): void {
    if (p.kind === 'system') return;
    if (existing && !p.domain) for (const rule of this.changeRules) rule(existing, next);
    this.ownership.assertMayWrite(p, existing, next);
  }

  async create(p: Principal, type: string, body: unknown, opts: { ifNoneExist?: string } = {}, tx?: Queryable): Promise<WriteResult> {
    this.assertType(type);
    if (typeof body !== 'object' || body === null || (body as Resource).resourceType !== type) {
      throw badRequest(`The body must be a ${type} resource`, ['resourceType']);
    }
    this.guard.assertAction(p, 'create', type);
    assertNoBundleReferences(body as Resource);
    const input = this.guard.prepareCreate(p, body as Resource);
    this.assertChangeAllowed(p, undefined, input);
    return this.storage.within(tx, async (q, own) => {
      if (opts.ifNoneExist) {
        const existing = await this.ifNoneExistMatch(p, q, type, opts.ifNoneExist);
        if (existing) return { resource: existing, created: false };
      }
      const prepared = this.storage.prepareCreate(input);
      const outcome = await this.guard.assertWritable(q, p, prepared.resource, prepared.rows, new Set(type === 'Patient' ? [prepared.resource.id!] : []));
      await this.assertBinariesReadable(p, q, prepared.resource, outcome.patients);
      // Rows, reference check and audit row in one statement (one round trip).
      const audit = this.guard.entryFor(p, {
        action: 'create',
        outcome: 'success',
        resourceType: type,
        resourceId: prepared.resource.id,
        patientIds: outcome.patients,
        breakGlass: outcome.viaBreakGlass,
      });
      // Nothing follows in a transaction of its own: the statement may carry the COMMIT.
      await this.storage.insertPrepared(q, [prepared], { audit, checkReferences: true, last: own });
      return { resource: prepared.resource, created: true };
    });
  }

  /** Several new resources in one statement per table (domain pipelines, imports): each checked, one audit entry. */
  async createMany(p: Principal, inputs: Resource[], tx?: Queryable): Promise<Resource[]> {
    if (inputs.length === 0) return [];
    const now = new Date();
    const prepared = inputs.map((input) => {
      this.assertType(input.resourceType);
      this.guard.assertAction(p, 'create', input.resourceType);
      assertNoBundleReferences(input);
      const r = this.guard.prepareCreate(p, input);
      this.assertChangeAllowed(p, undefined, r);
      return this.storage.prepareCreate(r, undefined, now);
    });
    return this.storage.within(tx, async (q) => {
      const created = new Set(prepared.filter((x) => x.resource.resourceType === 'Patient').map((x) => x.resource.id!));
      const patients = new Set<string>();
      let glass = false;
      for (const x of prepared) {
        const o = await this.guard.assertWritable(q, p, x.resource, x.rows, created);
        await this.assertBinariesReadable(p, q, x.resource, o.patients);
        o.patients.forEach((id) => patients.add(id));
        glass ||= o.viaBreakGlass;
      }
      const types = [...new Set(prepared.map((x) => x.resource.resourceType))];
      const audit = this.guard.entryFor(p, {
        action: 'create',
        outcome: 'success',
        resourceType: types.length === 1 ? types[0] : undefined,
        resourceId: prepared.length === 1 ? prepared[0].resource.id : undefined,
        patientIds: [...patients],
        breakGlass: glass,
        detail: prepared.length > 1 ? { count: prepared.length } : undefined,
      });
      await this.storage.insertPrepared(q, prepared, { audit, checkReferences: true });
      return prepared.map((x) => x.resource);
    });
  }

  async read(p: Principal, type: string, id: string, tx?: Queryable): Promise<Resource> {
    this.assertType(type);
    this.assertId(id);
    this.guard.assertAction(p, 'read', type);
    if (p.kind === 'actor' && !p.domain) return this.guard.readAudited(tx ?? this.db, p, type, id, !tx);
    return this.storage.within(tx, async (q) => {
      const stored = await this.storage.readStored(type, id, q);
      const outcome = await this.guard.assertReadable(q, p, stored);
      await this.guard.record(q, p, {
        action: 'read',
        outcome: 'success',
        resourceType: type,
        resourceId: id,
        patientIds: outcome.patients,
        breakGlass: outcome.viaBreakGlass,
      });
      return stored.resource;
    });
  }

  async vread(p: Principal, type: string, id: string, versionId: string, tx?: Queryable): Promise<Resource> {
    this.assertType(type);
    this.assertId(id);
    this.guard.assertAction(p, 'read', type);
    return this.storage.within(tx, async (q) => {
      // The version must be readable by what it says (its patients then), and the resource by what it says now.
      const current = await this.storage.readStored(type, id, q).catch(() => undefined);
      if (current) await this.guard.assertReadable(q, p, current);
      const resource = await this.storage.vread(type, id, versionId, q);
      const outcome = await this.guard.assertReadable(q, p, { resource, patients: this.versionPatients(resource) });
      await this.guard.record(q, p, {
        action: 'read',
        outcome: 'success',
        resourceType: type,
        resourceId: id,
        patientIds: outcome.patients,
        breakGlass: outcome.viaBreakGlass,
        detail: { versionId },
      });
      return resource;
    });
  }

  /** The patients one version of a resource names (for history entries, whose patients may differ from today's). */
  versionPatients(resource: Resource): string[] {
    return this.storage.prepareIndexOnly(resource).patients;
  }

  /** opts.deferReferences: the caller (a transaction bundle) checks references once at its end. */
  async update(
    p: Principal,
    type: string,
    id: string,
    body: unknown,
    opts: { ifMatch?: string; deferReferences?: boolean } = {},
    tx?: Queryable,
  ): Promise<WriteResult> {
    this.assertType(type);
    this.assertId(id);
    if (typeof body !== 'object' || body === null) throw badRequest('The body must be a JSON object holding one FHIR resource');
    const r = body as Resource;
    if (r.resourceType !== type) throw badRequest(`resourceType "${r.resourceType}" does not match the URL's type "${type}"`, ['resourceType']);
    if (r.id !== id) throw badRequest(`The resource id (${JSON.stringify(r.id ?? null)}) must equal the id in the URL (${id})`, ['id']);
    assertNoBundleReferences(r);
    this.guard.assertAction(p, 'update', type);
    return this.storage.within(tx, async (q) => {
      const existing = await this.storage.readStored(type, id, q).catch(() => undefined);
      // A deleted id brought back: whatever is still filed under it (a deleted Patient's
      // Observations) follows the id, so only someone who could read its last version may reuse it.
      const buried = existing ? undefined : await this.storage.lastLiveVersion(type, id, q);
      if (existing) await this.guard.assertReadable(q, p, existing);
      else if (buried) await this.guard.assertReadable(q, p, { resource: buried, patients: this.versionPatients(buried) });
      else this.guard.assertAction(p, 'create', type);
      const input = existing ? r : this.guard.prepareCreate(p, r);
      this.assertChangeAllowed(p, existing?.resource ?? buried, input);
      const fresh = !existing && !buried && type === 'Patient';
      // The version replaced must be the writer's facility's too (the new one is checked with every write, in assertWritable).
      await assertDirectoryWrite(q, p, existing?.resource ?? buried, undefined);
      const outcome = await this.guard.assertWritable(q, p, input, this.storage.prepareIndexOnly(input), new Set(fresh ? [id] : []));
      await this.assertBinariesReadable(p, q, input, outcome.patients);
      const result = await this.storage.update(input, opts, q);
      if (!opts.deferReferences) await this.storage.assertReferencesExist(q, [result.resource]);
      await this.guard.record(q, p, {
        action: result.created ? 'create' : 'update',
        outcome: 'success',
        resourceType: type,
        resourceId: id,
        patientIds: outcome.patients,
        breakGlass: outcome.viaBreakGlass,
      });
      return result;
    });
  }

  /** PUT Type?search: 0 matches → create, 1 → update it, more → 412. */
  async conditionalUpdate(p: Principal, type: string, query: URLSearchParams, body: unknown, tx?: Queryable): Promise<WriteResult> {
    this.assertType(type);
    this.guard.assertAction(p, 'search', type);
    return this.storage.within(tx, async (q) => {
      const matches = await this.conditionalMatches(p, q, type, query);
      if (matches.length > 1) throw preconditionFailed(`Conditional update matched ${matches.length} resources`);
      const r = body as Resource;
      if (matches.length === 0) {
        if (r?.id) return this.update(p, type, r.id, body, {}, q);
        return this.create(p, type, body, {}, q);
      }
      const target = matches[0];
      if (r?.id && r.id !== target.id) throw badRequest(`The resource id ${r.id} differs from the matched ${type}/${target.id}`);
      return this.update(p, type, target.id!, { ...r, id: target.id }, {}, q);
    });
  }

  async delete(p: Principal, type: string, id: string, tx?: Queryable): Promise<void> {
    this.assertType(type);
    this.assertId(id);
    this.guard.assertAction(p, 'delete', type);
    await this.storage.within(tx, async (q) => {
      let patients: string[] = [];
      const existing = await this.storage.readStored(type, id, q).catch(() => undefined);
      if (existing) {
        patients = (await this.guard.assertReadable(q, p, existing)).patients;
        this.assertChangeAllowed(p, existing.resource, undefined);
        await assertDirectoryWrite(q, p, existing.resource, undefined);
      }
      await this.storage.delete(type, id, q);
      await this.guard.record(q, p, { action: 'delete', outcome: 'success', resourceType: type, resourceId: id, patientIds: patients });
    });
  }

  /**
   * If-None-Exist (a create's, or a transaction entry's): it is a search — the principal needs the
   * search right and scope for the type — and a match handed back is a read: checked like one and
   * audited like one.
   */
  async ifNoneExistMatch(p: Principal, q: Queryable, type: string, query: string): Promise<Resource | undefined> {
    this.guard.assertAction(p, 'search', type);
    const existing = await this.conditionalMatches(p, q, type, new URLSearchParams(query));
    if (existing.length > 1) throw preconditionFailed(`If-None-Exist "${query}" matched ${existing.length} ${type} resources`);
    if (existing.length === 0) return undefined;
    this.guard.assertAction(p, 'read', type);
    const stored = await this.storage.readStored(type, existing[0].id!, q);
    const outcome = await this.guard.assertReadable(q, p, stored);
    await this.guard.record(q, p, {
      action: 'read',
      outcome: 'success',
      resourceType: type,
      resourceId: stored.resource.id,
      patientIds: outcome.patients,
      breakGlass: outcome.viaBreakGlass,
      detail: { ifNoneExist: query.slice(0, 500) },
    });
    return stored.resource;
  }

  /** Up to two matches of a conditional search (enough to tell none / one / many), among what the principal may see. */
  async conditionalMatches(p: Principal, q: Queryable, type: string, query: URLSearchParams): Promise<Resource[]> {
    const params = toQueryParams(query);
    if (Object.keys(params).length === 0) throw badRequest('A conditional request needs search criteria');
    params._count = ['2'];
    const result = await search(q, this.registry, type, params, this.guard.restriction(p));
    return result.matches.map((m) => parseStored(m.content));
  }

  async searchBundle(p: Principal, type: string, query: URLSearchParams, tx?: Queryable, opts: SearchBundleOptions = {}): Promise<Bundle> {
    this.assertType(type);
    const params = toQueryParams(query);
    this.guard.assertAction(p, 'search', type);
    // A signed-in search outside any transaction only reads: its statements run on their own and its
    // audit entry goes to the grouped append, committed before the answer (as a plain read's does).
    const grouped = !tx && p.kind === 'actor' && !p.domain;
    const run = async (q: Queryable) => {
      const found = await search(q, this.registry, type, params, this.guard.restriction(p), { patientsOf: this.guard.patientsOfRowSql });
      // Included resources of types the principal may not read are left out, like hidden patients.
      found.included = found.included.filter((m) => this.guard.mayRead(p, typeOfMatch(m)));
      const patients = this.guard.patientsOfRows([...found.matches, ...found.included]);
      const entry = {
        action: 'search',
        outcome: 'success' as const,
        resourceType: type,
        patientIds: patients,
        detail: { query: query.toString().slice(0, 2000), matches: found.matches.length },
      };
      if (grouped) await this.guard.recordGrouped(p, entry);
      else await this.guard.record(q, p, entry);
      return found;
    };
    const result = grouped ? await run(this.db) : await this.storage.within(tx, run);
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
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(result.total !== undefined ? { total: result.total } : {}),
      link: links,
      ...(entry.length ? { entry } : {}),
    };
  }

  async processBundle(p: Principal, bundle: unknown, opts: BundleOptions = {}): Promise<Bundle> {
    return processBundle(this, p, bundle, opts);
  }

  historyBundle(p: Principal, opts: { type?: string; id?: string; query: URLSearchParams }, tx?: Queryable): Promise<Bundle> {
    return historyBundle(this, p, opts, tx);
  }

  /** Patient/$everything (everything.ts). */
  everything(p: Principal, patientId: string, query: URLSearchParams, tx?: Queryable): Promise<Bundle> {
    return everything(this, p, patientId, query, tx);
  }

  /** A write may point only at Binaries its writer may read, of the same patient (binaries.ts). */
  assertBinariesReadable(p: Principal, q: Queryable, resource: Resource, patients: string[], createdHere: Set<string> = new Set()): Promise<void> {
    return assertBinariesReadable(this, p, q, resource, patients, createdHere);
  }

  /** Every resource type the principal may read, or undefined for all of them. */
  readableTypes(p: Principal): string[] | undefined {
    const all = [...loadDefinitions()];
    const allowed = all.filter((t) => this.guard.mayRead(p, t));
    return allowed.length === all.length ? undefined : allowed;
  }

  entry(m: SearchMatch, mode: 'match' | 'include', elements?: string[]): BundleEntry {
    let resource = parseStored(m.content);
    if (elements?.length) resource = pickElements(resource, elements);
    return { fullUrl: `${this.fhirBase}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
  }

  link(path: string, query: URLSearchParams): string {
    const qs = query.toString();
    return `${this.fhirBase}/${path}${qs ? `?${qs}` : ''}`;
  }
}

function typeOfMatch(m: SearchMatch): string {
  return m.resourceType ?? (JSON.parse(m.content) as Resource).resourceType;
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
  out.meta = {
    ...resource.meta,
    tag: [...(resource.meta?.tag ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }],
  };
  return out;
}
