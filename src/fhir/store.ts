/**
 * The record store as the rest of the platform sees it. Domain code holds a FhirStore and asks
 * it for a repository for whoever is acting:
 *
 *   store.as(req.ctx)                      plain FHIR: role policy per type, scopes, patient reach
 *   store.as(req.ctx, 'consult.triage')    a domain action the actor holds (checked here again):
 *                                          patient reach per resource, the domain's own tables and
 *                                          the resources its workflow owns
 *   store.system('device ingest', 'devices')   the platform itself, audited with its reason
 *
 * There is no other way in: the storage, the interactions engine and the database handle are
 * not importable from domain folders (eslint.config.js), and nothing here can be switched off.
 * Domains plug their rules in at start: write listeners (derived tables, in the write's own
 * transaction), change rules, and the resources their workflow owns.
 */
import { copyMinimumOf } from './storage-copy.ts';
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../db/db.ts';
import { DomainSql } from '../db/domain-sql.ts';
import type { AuditLog } from '../audit/audit.ts';
import { AccessControl, AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import { FhirGuard } from '../auth/guard.ts';
import { domainAllowed, type DomainAction } from '../auth/policy.ts';
import type { Principal } from '../auth/principal.ts';
import { OwnershipRules, type OwnershipRule } from './ownership.ts';
import { Repository } from './repository.ts';
import { FhirService, type ChangeRule } from './service.ts';
import type { HistoryEntry } from './storage.ts';
import type { SearchRegistry } from './searchparams.ts';
import { StatisticsUpkeep } from './statistics.ts';

/** Observes every write inside its transaction; gets the SQL of the domain that registered it. */
export type DomainWriteListener = (sql: DomainSql, entry: HistoryEntry & { rid: number }) => Promise<void>;

export class FhirStore {
  private constructor(
    private readonly engine: FhirService,
    readonly access: AccessControl,
    /** The planner's statistics between bulk loads where no autovacuum keeps them (PGlite; statistics.ts). */
    readonly statistics: StatisticsUpkeep,
  ) {}

  static async open(db: Db, opts: { baseUrl: string; audit: AuditLog; breakGlassMinutes: number }): Promise<FhirStore> {
    const { storage, registry, compartment } = await FhirService.prepare(db);
    const access = new AccessControl(db, registry, compartment, opts.breakGlassMinutes);
    storage.onWriteBatch(access.onWrite);
    const engine = new FhirService(storage, registry, `${opts.baseUrl}/fhir/R4`, compartment, new FhirGuard(access, opts.audit), new OwnershipRules());
    const statistics = new StatisticsUpkeep(db);
    storage.onWriteBatch(async (_q, entries) => statistics.note(entries.length), { statements: false });
    return new FhirStore(engine, access, statistics);
  }

  /** A repository acting for a signed-in actor: plainly (FHIR policy per type), or through a domain action. */
  as(ctx: AccessContext, action?: DomainAction): Repository {
    if (action) {
      const role = ctx.actor.role;
      if (!role || ctx.actor.mfaPending) throw new AccessDenied('Cần đăng nhập (sign in first)', 401);
      if (!domainAllowed(role, action)) throw new AccessDenied(`Vai trò ${role} không được phép (${action} not allowed for this role)`);
    }
    const p: Principal = { kind: 'actor', ctx, ...(action ? { domain: action } : {}) };
    return new Repository(this.engine, p);
  }

  /** A repository for the platform's own work, audited with the reason; `component` names its domain tables. */
  system(reason: string, component?: string): Repository {
    if (!reason.trim()) throw new Error('A system repository needs a reason');
    return new Repository(this.engine, { kind: 'system', reason, ...(component ? { component } : {}) });
  }

  /** Keeps a domain's derived table in step with writes (in the write's transaction). */
  onWrite(domain: string, listener: DomainWriteListener): void {
    this.engine.storage.onWrite((q, e) => listener(new DomainSql(q, domain), e));
  }

  /** Registers what a domain's workflow owns (changed only through that domain). */
  owns(rule: OwnershipRule): void {
    this.engine.ownership.register(rule);
  }

  /** A rule plain FHIR writes must keep (throw to refuse). */
  addChangeRule(rule: ChangeRule): void {
    this.engine.changeRules.push(rule);
  }

  /** Which domain owns a resource's state, if any. */
  ownerOf(resource: Resource): string | undefined {
    return this.engine.ownership.ownerOf(resource)?.domain;
  }

  /** After a bulk load (the demo seed, an import): the planner learns the store's new size and contents (statistics.ts). */
  refreshStatistics(): Promise<void> {
    return this.statistics.analyze();
  }

  get fhirBase(): string {
    return this.engine.fhirBase;
  }

  /** The smallest write (in resources) this store's database takes by COPY (storage-copy.ts): what an import renders ahead. */
  get copyMinimum(): number {
    return copyMinimumOf(this.engine.db);
  }

  get registry(): SearchRegistry {
    return this.engine.registry;
  }
}
