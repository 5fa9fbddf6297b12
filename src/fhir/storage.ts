/**
 * The FHIR record store: create, read, vread, update (optimistic locking), delete (soft),
 * history. Each write stores a new version, keeps every old one, and replaces the resource's
 * search-index rows in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../db/db.ts';
import { badRequest, businessRule, conflict, gone, notFound, preconditionFailed } from './outcome.ts';
import { extractIndexRows, type IndexRows, type SearchRegistry } from './searchparams.ts';
import type { AuditEntry } from '../audit/audit.ts';
import { appendAuditRow, deleteIndexRows, insertIndexRows, insertNew, setPatients, writeVersion } from './storage-rows.ts';
import { copyNew, copyRendered, copyWorthIt, type RenderedCopy } from './storage-copy.ts';
import { WriteListeners, type BatchWriteListener, type WriteListener } from './write-listeners.ts';

export { deleteIndexRows, insertIndexRows };
import { isVouched } from './templates.ts';
import { assertValidResource } from './validate.ts';

export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export interface WriteResult<T extends Resource = Resource> {
  resource: T;
  /** true when a new resource was created (HTTP 201). */
  created: boolean;
}

export interface HistoryEntry {
  resource?: Resource;
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  method: 'POST' | 'PUT' | 'DELETE';
}

export type { BatchWriteListener, WriteListener } from './write-listeners.ts';

export interface PreparedWrite {
  resource: Resource;
  rows: IndexRows;
}

/** A new resource (version 1) validated and indexed: pure CPU, also run in import worker threads. */
export function prepareNew(registry: SearchRegistry, input: Resource, id: string, lastUpdated: Date): PreparedWrite {
  const resource = { ...input, id, meta: { ...input.meta, versionId: '1', lastUpdated: lastUpdated.toISOString() } };
  // Checked already through its template (templates.ts: same verdict as the full check).
  if (!isVouched(input) || !ID_PATTERN.test(id)) assertValidResource(resource);
  return { resource, rows: extractIndexRows(resource, registry.forType(resource.resourceType)) };
}

export class FhirStorage {
  private readonly listeners = new WriteListeners();

  constructor(
    readonly db: Db,
    readonly registry: SearchRegistry,
  ) {}

  onWrite(listener: WriteListener): void {
    this.listeners.add(listener);
  }

  /** A listener called once per statement with every resource it wrote (batched derived rows); `statements: false` for one that never issues any. */
  onWriteBatch(listener: BatchWriteListener, opts: { statements?: boolean } = {}): void {
    this.listeners.addBatch(listener, opts);
  }

  /** Validates and extracts index rows outside any transaction (pure CPU work). */
  prepare(resource: unknown, expectedType?: string): PreparedWrite {
    assertValidResource(resource, expectedType);
    return { resource, rows: extractIndexRows(resource, this.registry.forType(resource.resourceType)) };
  }

  /** Index rows only (no validation): for access checks on already-stored content. */
  prepareIndexOnly(resource: Resource): IndexRows {
    return extractIndexRows(resource, this.registry.forType(resource.resourceType));
  }

  async create<T extends Resource>(input: T, tx?: Queryable): Promise<T> {
    const [result] = await this.createMany([input], tx);
    return result as T;
  }

  /** Creates several resources with one statement per table (bundles, imports). Assigns new ids. */
  async createMany(inputs: Resource[], tx?: Queryable): Promise<Resource[]> {
    const now = new Date();
    const prepared = inputs.map((input) => this.prepareCreate(input, randomUUID(), now));
    await this.within(tx, (q) => this.insertPrepared(q, prepared));
    return prepared.map((p) => p.resource);
  }

  /** A new resource with a server id (or `id` when given) and version 1, validated and indexed. */
  prepareCreate(input: Resource, id: string = randomUUID(), lastUpdated = new Date()): PreparedWrite {
    return prepareNew(this.registry, input, id, lastUpdated);
  }

  /**
   * Writes new resources in one statement (resource, version and index rows; with opts, the audit
   * row and the check that their references exist — a 422 when one names nothing), then tells the
   * write listeners. Many resources inside a transaction go by COPY instead (storage-copy.ts), with
   * the same checks and audit row after the rows. `last`: nothing follows in the caller's
   * transaction — when no write listener would issue a statement either (write-listeners.ts), the
   * statement carries the COMMIT (one round trip on PostgreSQL).
   */
  async insertPrepared(
    q: Queryable,
    prepared: PreparedWrite[],
    opts: { audit?: AuditEntry; checkReferences?: boolean; rendered?: RenderedCopy; last?: boolean } = {},
  ): Promise<void> {
    if (prepared.length === 0) return;
    const lastUpdated = new Date(prepared[0].resource.meta!.lastUpdated!);
    if (copyWorthIt(q, prepared.length)) {
      // Many at once inside a transaction: COPY the rows (storage-copy.ts; rendered ahead when the
      // caller has them for exactly these writes), then the same checks.
      const ahead = opts.rendered?.count === prepared.length && opts.rendered.lastUpdated === prepared[0].resource.meta!.lastUpdated;
      const rids = ahead ? await copyRendered(q, opts.rendered!) : await copyNew(q, prepared, lastUpdated);
      if (opts.checkReferences)
        await this.assertReferencesExist(
          q,
          prepared.map((p) => p.resource),
        );
      if (opts.audit) await appendAuditRow(q, opts.audit);
      await this.listeners.notify(
        q,
        prepared.map((p, i) => this.entry(p.resource, 'POST', lastUpdated, rids[i])),
      );
      return;
    }
    const references = opts.checkReferences ? referencesOf(prepared.map((p) => p.resource)) : undefined;
    const last = !!opts.last && (await this.listeners.quiet(prepared.map((p) => this.entry(p.resource, 'POST', lastUpdated, 0))));
    const { rids, missing } = await insertNew(q, prepared, lastUpdated, { audit: opts.audit, references: references?.map((x) => x.ref), last });
    if (missing.length > 0) {
      const gone = new Set(missing.map((x) => `${x.type}/${x.id}`));
      const m = references!.find((x) => gone.has(`${x.ref.type}/${x.ref.id}`))!;
      throw missingReference(m.from, m.ref, missing.length);
    }
    // After a quiet dry run the listeners have had their run (write-listeners.ts): only the stateful, statement-free ones are left.
    await this.listeners.notify(
      q,
      prepared.map((p, i) => this.entry(p.resource, 'POST', lastUpdated, rids[i])),
      { dryRunQuiet: last },
    );
  }

  /**
   * Update (or create with a client-chosen id). ifMatch is the version the client last saw;
   * a different current version is a 412.
   */
  async update<T extends Resource>(input: T, opts: { ifMatch?: string } = {}, tx?: Queryable): Promise<WriteResult<T>> {
    const { resourceType, id } = input;
    if (!id || !ID_PATTERN.test(id)) throw badRequest('An update needs a valid resource id', ['id']);
    // Validation and index extraction happen before any lock; meta (set below) changes neither.
    const prepared = this.prepare(input);
    return this.within(tx, async (q) => {
      const current = await q.query<{ rid: number; version_id: number; deleted: boolean }>(
        'SELECT rid, version_id, deleted FROM resource WHERE resource_type = $1 AND id = $2 FOR UPDATE',
        [resourceType, id],
      );
      const row = current.rows[0];
      const expected = opts.ifMatch !== undefined ? parseETag(opts.ifMatch) : undefined;
      if (expected !== undefined && (!row || row.version_id !== expected)) {
        throw preconditionFailed(`Version conflict: ${resourceType}/${id} is at version ${row?.version_id ?? 'none'}, If-Match asked for ${expected}`);
      }
      const lastUpdated = new Date();
      const versionId = row ? row.version_id + 1 : 1;
      const resource = { ...input, meta: { ...input.meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() } } as T;
      let rid: number;
      if (row) {
        rid = row.rid;
      } else {
        const inserted = await q.query<{ rid: number }>(
          `INSERT INTO resource (resource_type, id, version_id, last_updated, patients) VALUES ($1, $2, 1, $3, $4)
           ON CONFLICT (resource_type, id) DO NOTHING RETURNING rid`,
          [resourceType, id, lastUpdated, prepared.rows.patients],
        );
        if (!inserted.rows[0]) throw conflict(`${resourceType}/${id} was created concurrently; retry the update`);
        rid = inserted.rows[0].rid;
      }
      await writeVersion(q, { rid, resource, rows: prepared.rows, method: 'PUT', replace: !!row }, lastUpdated);
      await this.listeners.notify(q, [this.entry(resource, 'PUT', lastUpdated, rid)]);
      return { resource, created: !row };
    });
  }

  /** Soft delete: the resource disappears from reads and searches; its history stays. */
  async delete(resourceType: string, id: string, tx?: Queryable): Promise<{ deleted: boolean }> {
    return this.within(tx, async (q) => {
      const current = await q.query<{ rid: number; version_id: number; deleted: boolean }>(
        'SELECT rid, version_id, deleted FROM resource WHERE resource_type = $1 AND id = $2 FOR UPDATE',
        [resourceType, id],
      );
      const row = current.rows[0];
      if (!row) throw notFound(`${resourceType}/${id} not found`);
      if (row.deleted) return { deleted: false };
      const lastUpdated = new Date();
      const versionId = row.version_id + 1;
      await q.query('UPDATE resource SET version_id = $2, last_updated = $3, deleted = true WHERE rid = $1', [row.rid, versionId, lastUpdated]);
      await q.query(
        `INSERT INTO resource_version (rid, version_id, resource_type, id, last_updated, deleted, method, content)
         VALUES ($1, $2, $3, $4, $5, true, 'DELETE', NULL)`,
        [row.rid, versionId, resourceType, id, lastUpdated],
      );
      await deleteIndexRows(q, [row.rid]);
      await this.listeners.notify(q, [{ resourceType, id, versionId, lastUpdated, deleted: true, method: 'DELETE', rid: row.rid }]);
      return { deleted: true };
    });
  }

  async read<T extends Resource = Resource>(resourceType: string, id: string, q: Queryable = this.db): Promise<T> {
    return (await this.readStored(resourceType, id, q)).resource as T;
  }

  /**
   * The current version, the internal row id and the patients whose data it is (its row's
   * `patients`: for access checks), in one round trip.
   */
  async readStored(resourceType: string, id: string, q: Queryable = this.db): Promise<{ resource: Resource; rid: number; patients: string[] }> {
    const r = await q.query<{ rid: number; content: string | null; deleted: boolean; patients: string[] }>(
      `SELECT r.rid, v.content::text AS content, r.deleted, r.patients FROM resource r
       JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
       WHERE r.resource_type = $1 AND r.id = $2`,
      [resourceType, id],
      { prepare: true },
    );
    const row = r.rows[0];
    if (!row) throw notFound(`${resourceType}/${id} not found`);
    if (row.deleted || row.content === null) throw gone(`${resourceType}/${id} was deleted`);
    return { resource: parseStored(row.content), rid: row.rid, patients: row.patients };
  }

  /** Like read, but undefined for a missing or deleted resource. */
  async tryRead<T extends Resource = Resource>(resourceType: string, id: string, q: Queryable = this.db): Promise<T | undefined> {
    try {
      return await this.read<T>(resourceType, id, q);
    } catch {
      return undefined;
    }
  }

  /** The last version that was not a deletion, for an id whose resource is now deleted (undefined if it never existed). */
  async lastLiveVersion(resourceType: string, id: string, q: Queryable = this.db): Promise<Resource | undefined> {
    const r = await q.query<{ content: string }>(
      `SELECT v.content::text AS content FROM resource_version v JOIN resource r ON r.rid = v.rid
       WHERE r.resource_type = $1 AND r.id = $2 AND r.deleted AND NOT v.deleted ORDER BY v.version_id DESC LIMIT 1`,
      [resourceType, id],
    );
    return r.rows[0] ? parseStored(r.rows[0].content) : undefined;
  }

  async vread(resourceType: string, id: string, versionId: string, q: Queryable = this.db): Promise<Resource> {
    if (!/^\d{1,9}$/.test(versionId)) throw notFound(`${resourceType}/${id}/_history/${versionId} not found`);
    const r = await q.query<{ content: string | null; deleted: boolean }>(
      `SELECT content::text AS content, deleted FROM resource_version
       WHERE rid = (SELECT rid FROM resource WHERE resource_type = $1 AND id = $2) AND version_id = $3`,
      [resourceType, id, Number(versionId)],
    );
    const row = r.rows[0];
    if (!row) throw notFound(`${resourceType}/${id}/_history/${versionId} not found`);
    if (row.deleted || row.content === null) throw gone(`${resourceType}/${id} version ${versionId} is a deletion`);
    return parseStored(row.content);
  }

  /** History of one resource, a type, or the whole system, newest first. */
  async history(
    opts: { resourceType?: string; id?: string; since?: Date; count: number; before?: { at: Date; rid: number; vid: number }; types?: string[] },
    q: Queryable = this.db,
  ): Promise<HistoryEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.resourceType && opts.id) {
      // One resource's history: through its row id (the primary key's prefix), never a scan.
      where.push(`rid = (SELECT rid FROM resource WHERE resource_type = $${params.push(opts.resourceType)} AND id = $${params.push(opts.id)})`);
    } else if (opts.resourceType) where.push(`resource_type = $${params.push(opts.resourceType)}`);
    if (opts.types) where.push(`resource_type = ANY($${params.push(opts.types)}::text[])`);
    if (opts.since) where.push(`last_updated >= $${params.push(opts.since)}`);
    if (opts.before) {
      where.push(`(last_updated, rid, version_id) < ($${params.push(opts.before.at)}, $${params.push(opts.before.rid)}, $${params.push(opts.before.vid)})`);
    }
    const r = await q.query<{
      rid: number;
      resource_type: string;
      id: string;
      version_id: number;
      last_updated: Date;
      deleted: boolean;
      method: string;
      content: string | null;
    }>(
      `SELECT rid, resource_type, id, version_id, last_updated, deleted, method, content::text AS content
       FROM resource_version ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY last_updated DESC, rid DESC, version_id DESC LIMIT ${Math.max(1, Math.min(opts.count, 1000))}`,
      params,
    );
    if (opts.id && r.rows.length === 0 && !opts.before) throw notFound(`${opts.resourceType}/${opts.id} not found`);
    return r.rows.map((row) => ({
      resourceType: row.resource_type,
      id: row.id,
      versionId: row.version_id,
      lastUpdated: row.last_updated,
      deleted: row.deleted,
      method: row.method as HistoryEntry['method'],
      resource: row.content ? parseStored(row.content) : undefined,
      rid: row.rid,
    }));
  }

  /**
   * Referential integrity: every relative reference (Type/id) in the written resources must name
   * a resource that exists and is not deleted, else 422. Run at the end of a write's transaction,
   * so a transaction bundle may reference resources it creates in any order.
   */
  async assertReferencesExist(q: Queryable, resources: Resource[]): Promise<void> {
    // The resources just written exist: references among them need no lookup (a bundle's own).
    const self = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
    const list = referencesOf(resources).filter((x) => !self.has(`${x.ref.type}/${x.ref.id}`));
    if (list.length === 0) return;
    const found = await q.query<{ resource_type: string; id: string }>(
      `SELECT resource_type, id FROM resource WHERE NOT deleted AND (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [list.map((x) => x.ref.type), list.map((x) => x.ref.id)],
    );
    const present = new Set(found.rows.map((row) => `${row.resource_type}/${row.id}`));
    const missing = list.filter((x) => !present.has(`${x.ref.type}/${x.ref.id}`));
    if (missing.length > 0) throw missingReference(missing[0].from, missing[0].ref, missing.length);
  }

  /** Which of the resources' (type, id) have a row already (live or deleted), as "Type/id". */
  async existing(q: Queryable, resources: Resource[]): Promise<Set<string>> {
    if (resources.length === 0) return new Set();
    const r = await q.query<{ resource_type: string; id: string }>(
      'SELECT resource_type, id FROM resource WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
      [resources.map((x) => x.resourceType), resources.map((x) => x.id)],
    );
    return new Set(r.rows.map((x) => `${x.resource_type}/${x.id}`));
  }

  /** Rebuilds the index rows of every current resource of a type (after a parameter was added), in batches. */
  async reindexType(resourceType: string): Promise<number> {
    let after = 0;
    let done = 0;
    for (;;) {
      const batch = await this.db.query<{ rid: number; content: string }>(
        `SELECT r.rid, v.content::text AS content FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
         WHERE r.resource_type = $1 AND NOT r.deleted AND r.rid > $2 ORDER BY r.rid LIMIT 500`,
        [resourceType, after],
      );
      if (batch.rows.length === 0) return done;
      await this.db.transaction(async (q) => {
        const items = batch.rows.map((row) => ({ rid: row.rid, rows: this.prepareIndexOnly(parseStored(row.content)) }));
        await deleteIndexRows(
          q,
          items.map((i) => i.rid),
        );
        await insertIndexRows(q, items);
        await setPatients(q, items);
      });
      done += batch.rows.length;
      after = batch.rows[batch.rows.length - 1].rid;
    }
  }

  /** fn in the caller's transaction, or in one of its own (`own`: then fn's last statement may carry the COMMIT). */
  async within<T>(tx: Queryable | undefined, fn: (q: Queryable, own: boolean) => Promise<T>): Promise<T> {
    return tx ? fn(tx, false) : this.db.transaction((q) => fn(q, true));
  }

  private entry(resource: Resource, method: 'POST' | 'PUT', lastUpdated: Date, rid: number): HistoryEntry & { rid: number } {
    return {
      resource,
      resourceType: resource.resourceType,
      id: resource.id!,
      versionId: Number(resource.meta!.versionId),
      lastUpdated,
      deleted: false,
      method,
      rid,
    };
  }
}

/** Each distinct relative reference of the resources, with the resource that makes it (the last one, as a message names one). */
function referencesOf(resources: Resource[]): { ref: { type: string; id: string }; from: string }[] {
  const wanted = new Map<string, { ref: { type: string; id: string }; from: string }>();
  for (const r of resources) {
    for (const ref of localReferences(r)) wanted.set(`${ref.type}/${ref.id}`, { ref, from: `${r.resourceType}/${r.id}` });
  }
  return [...wanted.values()];
}

function missingReference(from: string, ref: { type: string; id: string }, count: number): Error {
  return businessRule(`${from} refers to ${ref.type}/${ref.id}, which does not exist${count > 1 ? ` (and ${count - 1} more missing references)` : ''}`);
}

const LOCAL_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** Relative references (Type/id) anywhere in a resource; contained (#id) and absolute URLs are skipped. */
export function localReferences(resource: Resource): { type: string; id: string }[] {
  const out: { type: string; id: string }[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (key === 'contained') return; // contained resources reference each other with #id
    if (Array.isArray(node)) for (const n of node) walk(n);
    else if (node && typeof node === 'object') {
      for (const k in node) {
        if (!Object.hasOwn(node, k)) continue;
        const v = (node as Record<string, unknown>)[k];
        if (k === 'reference' && typeof v === 'string') {
          const m = LOCAL_REFERENCE.exec(v);
          if (m) out.push({ type: m[1], id: m[2] });
        } else if (v && typeof v === 'object') walk(v, k);
      }
    }
  };
  walk(resource);
  return out;
}

/**
 * Parses stored JSON and puts resourceType, id and meta first again (jsonb keeps keys in its own
 * order), so what clients read looks like what they wrote.
 */
export function parseStored(content: string): Resource {
  const { resourceType, id, meta, ...rest } = JSON.parse(content) as Resource & Record<string, unknown>;
  return { resourceType, id, meta, ...rest } as Resource;
}

/** W/"3" or "3" or 3 → 3 */
export function parseETag(etag: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim());
  if (!m) throw badRequest(`If-Match must be a version ETag like W/"3", got ${JSON.stringify(etag)}`);
  return Number(m[1]);
}
