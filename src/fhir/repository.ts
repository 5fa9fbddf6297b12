/**
 * The only way into the record store from outside src/fhir: a Repository built for one principal
 * (src/auth/principal.ts) by FhirStore.as(ctx), .as(ctx, action) or .system(reason). Every read,
 * search and write goes through the guard (role, scopes, patient relationship, consent,
 * break-the-glass, workflow ownership) and is audited in the same transaction. Modelled on
 * Medplum's per-request repository.
 *
 * A repository is cheap: build one per request or unit of work, never keep one across requests.
 * `transaction(fn)` gives a repository bound to one database transaction, whose `sql` runs the
 * domain's own tables (src/db/domain-sql.ts) in that same transaction. In a domain or system
 * unit of work the accesses are summed up into one audit row: the one the domain writes with
 * `record()`, or, if it writes none, one under the action's name at the end.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { DomainSql } from '../db/domain-sql.ts';
import type { AuditEntry } from '../audit/audit.ts';
import type { AccessContext, Actor } from '../auth/actor.ts';
import { domainOf } from '../auth/policy.ts';
import { AuditUnit, principalFields, unitAction, type Principal } from '../auth/principal.ts';
import type { BundleOptions } from './bundle.ts';
import { importResources } from './import-many.ts';
import type { Readable } from 'node:stream';
import { exportPlan, exportRange, type ExportFilePlan, type ExportScope } from './bulk-read.ts';
import { FhirError } from './outcome.ts';
import type { FhirService, SearchBundleOptions } from './service.ts';

export type SearchQuery = URLSearchParams | Record<string, string | string[]>;

/** What a domain says about its own unit of work (the "who" comes from the principal). */
export type DomainAuditEntry = Omit<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip' | 'outcome'> & {
  outcome?: AuditEntry['outcome'];
};

function toSearchParams(query: SearchQuery): URLSearchParams {
  if (query instanceof URLSearchParams) return query;
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) out.append(k, x);
  return out;
}

export class Repository {
  /** @internal built by FhirStore only */
  constructor(
    private readonly engine: FhirService,
    readonly principal: Principal,
    private readonly q?: Queryable,
  ) {}

  /** The signed-in actor, when the principal is one. */
  get actor(): Actor | undefined {
    return this.principal.kind === 'actor' ? this.principal.ctx.actor : undefined;
  }

  get ctx(): AccessContext | undefined {
    return this.principal.kind === 'actor' ? this.principal.ctx : undefined;
  }

  get fhirBase(): string {
    return this.engine.fhirBase;
  }

  // ------------------------------------------------------------------ reads

  read<T extends Resource = Resource>(type: T['resourceType'] | string, id: string): Promise<T> {
    return this.engine.read(this.principal, type, id, this.q) as Promise<T>;
  }

  /** Like read, but undefined when the resource does not exist or was deleted; a denial still throws. */
  async tryRead<T extends Resource = Resource>(type: T['resourceType'] | string, id: string): Promise<T | undefined> {
    try {
      return await this.read<T>(type, id);
    } catch (err) {
      if (err instanceof FhirError && (err.status === 404 || err.status === 410 || err.status === 400)) return undefined;
      throw err;
    }
  }

  vread<T extends Resource = Resource>(type: string, id: string, versionId: string): Promise<T> {
    return this.engine.vread(this.principal, type, id, versionId, this.q) as Promise<T>;
  }

  searchBundle(type: string, query: SearchQuery, opts: SearchBundleOptions = {}): Promise<Bundle> {
    return this.engine.searchBundle(this.principal, type, toSearchParams(query), this.q, opts);
  }

  /** The matching resources of one page (includes left out). */
  async search<T extends Resource = Resource>(type: T['resourceType'] | string, query: SearchQuery): Promise<T[]> {
    const b = await this.searchBundle(type, query);
    return (b.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource as T);
  }

  async searchOne<T extends Resource = Resource>(type: T['resourceType'] | string, query: SearchQuery): Promise<T | undefined> {
    const q = toSearchParams(query);
    q.set('_count', '1');
    return (await this.search<T>(type, q))[0];
  }

  history(opts: { type?: string; id?: string; query?: URLSearchParams }): Promise<Bundle> {
    return this.engine.historyBundle(this.principal, { ...opts, query: opts.query ?? new URLSearchParams() }, this.q);
  }

  everything(patientId: string, query: URLSearchParams = new URLSearchParams()): Promise<Bundle> {
    return this.engine.everything(this.principal, patientId, query, this.q);
  }

  /**
   * A bulk export's plan (src/fhir/bulk-read.ts): counts per type as of the transaction time, cut
   * into files of at most `fileSize` rows by row id; every row checked set-wise; one audit row.
   */
  exportPlan(scope: ExportScope, fileSize: number): Promise<ExportFilePlan[]> {
    return exportPlan(this.engine, this.principal, scope, fileSize, this.q);
  }

  /** One file of a bulk export: NDJSON of the stored JSON text of one type's row-id range, streamed; one audit row naming its patients, written first. */
  exportRange(scope: ExportScope & { after: number; upTo: number }): Promise<{ count: number; body: Readable }> {
    return exportRange(this.engine, this.principal, scope, this.q);
  }

  /** May this principal reach patient P's record now (care, consent, break-the-glass)? Not itself an access. */
  reaches(patientId: string): Promise<boolean> {
    return this.engine.guard.reaches(this.q ?? this.engine.db, this.principal, patientId);
  }

  // ------------------------------------------------------------------ writes

  async create<T extends Resource>(resource: T, opts: { ifNoneExist?: string } = {}): Promise<T> {
    return (await this.engine.create(this.principal, resource.resourceType, resource, opts, this.q)).resource as T;
  }

  /** Create a resource of `type` from an untrusted body (the REST API), saying whether it was new (If-None-Exist may find one). */
  createAt(type: string, body: unknown, opts: { ifNoneExist?: string } = {}): Promise<{ resource: Resource; created: boolean }> {
    return this.engine.create(this.principal, type, body, opts, this.q);
  }

  /** Several new resources at once (one statement per table; one audit entry). */
  createMany<T extends Resource>(resources: T[]): Promise<T[]> {
    return this.engine.createMany(this.principal, resources, this.q) as Promise<T[]>;
  }

  /**
   * An import's resources in this repository's transaction (import-many.ts): ids kept, new ones
   * created in bulk, existing ones updated, references checked at the end. Platform imports only.
   */
  importMany(resources: Resource[], onChunk?: (done: number, total: number) => void): Promise<Resource[]> {
    if (this.principal.kind !== 'system' || !this.q) throw new Error('importMany is for a system repository inside transaction()');
    return importResources(this.engine, this.principal, resources, this.q, onChunk);
  }

  async update<T extends Resource>(resource: T, opts: { ifMatch?: string } = {}): Promise<T> {
    return (await this.engine.update(this.principal, resource.resourceType, resource.id!, resource, opts, this.q)).resource as T;
  }

  /** Update (or create with the client's id) `type/id` from an untrusted body, saying which. */
  updateAt(type: string, id: string, body: unknown, opts: { ifMatch?: string } = {}): Promise<{ resource: Resource; created: boolean }> {
    return this.engine.update(this.principal, type, id, body, opts, this.q);
  }

  conditionalUpdate(type: string, query: URLSearchParams, body: unknown): Promise<{ resource: Resource; created: boolean }> {
    return this.engine.conditionalUpdate(this.principal, type, query, body, this.q);
  }

  delete(type: string, id: string): Promise<void> {
    return this.engine.delete(this.principal, type, id, this.q);
  }

  /** A batch or transaction Bundle, every entry checked as if sent alone. */
  bundle(bundle: unknown, opts: Omit<BundleOptions, 'tx'> = {}): Promise<Bundle> {
    return this.engine.processBundle(this.principal, bundle, opts);
  }

  // ------------------------------------------------------------------ units of work

  /**
   * Runs fn in one database transaction (or inside the current one) with a repository bound to
   * it. All writes commit together; the audit row(s) commit with them.
   */
  async transaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.q) return fn(this);
    const unit = this.principal.kind === 'system' || this.principal.domain ? new AuditUnit() : undefined;
    const principal: Principal = unit ? { ...this.principal, unit } : this.principal;
    return this.engine.db.transaction(async (tx) => {
      const repo = new Repository(this.engine, principal, tx);
      if (unit) unit.open = true;
      try {
        const result = await fn(repo);
        if (unit && !unit.empty) await repo.flushUnit(unit);
        return result;
      } finally {
        if (unit) unit.open = false;
      }
    });
  }

  /** The domain's own tables, on this repository's transaction when it has one. */
  get sql(): DomainSql {
    return new DomainSql(this.q ?? this.engine.db, this.domain);
  }

  /** The domain this repository acts for (its tables and owned resources). */
  get domain(): string {
    const p = this.principal;
    if (p.kind === 'system') return p.component ?? 'system';
    return p.domain ? domainOf(p.domain) : 'fhir';
  }

  /**
   * Records what the unit of work did (e.g. "consult.accept" on a case), with every patient it
   * touched so far; in a transaction it commits with the writes.
   */
  async record(entry: DomainAuditEntry): Promise<void> {
    const p = this.principal;
    const unit = p.kind === 'system' || p.domain ? p.unit : undefined;
    const who = principalFields(p);
    const patients = new Set([...(entry.patientIds ?? []), ...(unit?.patients ?? [])]);
    const touched = unit?.resources.length ? { resources: [...unit.resources] } : {};
    const detail = { ...entry.detail, ...touched, ...(p.kind === 'actor' && p.domain ? { via: p.domain } : {}) };
    await this.engine.guard.audit.append(this.q ?? this.engine.db, {
      ...who,
      ...entry,
      outcome: entry.outcome ?? 'success',
      reason: entry.reason ?? who.reason,
      patientIds: [...patients],
      breakGlass: entry.breakGlass || unit?.breakGlass || false,
      ...(Object.keys(detail).length ? { detail } : {}),
    });
    unit?.clear();
  }

  private async flushUnit(unit: AuditUnit): Promise<void> {
    await this.record({ action: unitAction(this.principal), resourceType: unit.first?.resourceType, resourceId: unit.first?.resourceId });
  }
}
