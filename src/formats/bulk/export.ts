/**
 * FHIR Bulk Data export (`$export`, Bulk Data Access IG 2.0): system, Patient and Group level,
 * asynchronous — the kick-off answers 202 with the status URL; a job plans the files
 * (one per type and chunk of 10,000 rows), and the kick-off waits for it up to 2 s, so a small
 * export's first status request finds it done; the status answers 202 with progress and
 * Retry-After, then 200 with the manifest. `_type`, `_since` and `_typeFilter` (system level only; a
 * 400 at Patient and Group level rather than a filter silently not applied) are supported.
 *
 * Rules: only a SMART backend-services token (a `system/` scope; no signed-in session, no
 * patient/ or user/ token) may export, and only the types its scopes allow to read. Everything is
 * read through the caller's own repository (store.as: role, scopes and patient reach apply to
 * every resource, decided set-wise in SQL). The job plans (`Repository.exportPlan`: counts per type
 * as of the transaction time, files of ≤ 10,000 rows by row-id range; one audit row); each file is
 * read when downloaded (`Repository.exportRange`: the audit row naming its patients first, then
 * the stored JSON text streamed as it is — one COPY whose output is the NDJSON, on PostgreSQL straight into the answer —
 * never parsed and re-serialised). Types with a
 * `_typeFilter` go through the search at kick-off (one audit row per page) and their files are
 * kept. Files and status belong to the account and client that started the job, served only to it,
 * 24 hours; a narrower token of that client sees the manifest only of the types it may read and may
 * not cancel the job; a cancelled job is gone (404).
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Group, Resource } from '@medplum/fhirtypes';
import { AccessDenied } from '../../auth/access.ts';
import type { AccessContext } from '../../auth/actor.ts';
import { scopeAllows } from '../../auth/scopes.ts';
import { loadDefinitions } from '../../fhir/definitions.ts';
import { badRequest, notFound } from '../../fhir/outcome.ts';
import type { Repository } from '../../fhir/repository.ts';
import type { FhirStore } from '../../fhir/store.ts';

/** The patients an NDJSON file of kept resources is about (a Patient's id, or its subject/patient reference). */
function patientsOf(ndjson: string): string[] {
  const out = new Set<string>();
  for (const line of ndjson.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { resourceType?: string; id?: string; subject?: { reference?: string }; patient?: { reference?: string } };
    const ref = r.resourceType === 'Patient' ? `Patient/${r.id}` : (r.subject?.reference ?? r.patient?.reference);
    if (ref?.startsWith('Patient/')) out.add(ref.slice(8));
  }
  return [...out];
}

const CHUNK = 10_000;
const PAGE = '1000';

const TTL_HOURS = 24;
/** How long the kick-off waits for the job before answering 202 (the job goes on after it). */
const KICKOFF_WAIT_MS = 2_000;
const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

export type ExportLevel = { kind: 'system' } | { kind: 'patient' } | { kind: 'group'; groupId: string };

export interface ExportParams {
  _type?: string;
  _since?: string;
  _typeFilter?: string;
  _outputFormat?: string;
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string }[];
}

interface JobRow {
  id: string;
  account_id: string;
  client_id: string | null;
  request: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  transaction_time: string | Date;
  progress: string | null;
  error: string | null;
  since: string | Date | null;
  patients: string[] | null;
  /** The types the kick-off token could read (null: a job from before they were kept). */
  types: string[] | null;
}

export class BulkExports {
  constructor(
    private readonly store: FhirStore,
    private readonly fhirBase: string,
  ) {}

  private sql() {
    return this.store.system('bulk export bookkeeping', 'formats').sql;
  }

  /** Who may export: a backend-services token with system/ scopes. */
  static assertBackend(ctx: AccessContext): void {
    const scopes = ctx.actor.scopes;
    if (!scopes || !scopes.some((s) => s.context === 'system' && s.actions.has('search')))
      throw new AccessDenied('Bulk export needs a SMART backend-services token with system/*.read (or system/<Type>.rs) scopes');
  }

  async kickOff(ctx: AccessContext, level: ExportLevel, p: ExportParams, requestUrl: string): Promise<string> {
    BulkExports.assertBackend(ctx);
    if (p._outputFormat && !NDJSON_FORMATS.has(p._outputFormat))
      throw badRequest(`_outputFormat ${p._outputFormat} is not supported (application/fhir+ndjson)`);
    const all = loadDefinitions();
    const types = p._type ? p._type.split(',').map((t) => t.trim()) : [...all].sort();
    const unknown = types.filter((t) => !all.has(t));
    if (unknown.length) throw badRequest(`_type names unknown resource types: ${unknown.join(', ')}`);
    const scopes = ctx.actor.scopes!;
    const readable = types.filter((t) => scopeAllows(scopes, 'search', t));
    if (p._type && readable.length < types.length)
      throw new AccessDenied(`The token's scopes do not allow reading ${types.filter((t) => !readable.includes(t)).join(', ')}`);
    if (p._since && Number.isNaN(Date.parse(p._since))) throw badRequest('_since must be an instant');
    const filters = new Map<string, URLSearchParams[]>();
    if (p._typeFilter && level.kind !== 'system')
      throw badRequest('_typeFilter is supported for a system-level export only (GET /fhir/R4/$export), not at Patient or Group level');
    for (const f of (p._typeFilter ?? '').split(',').filter(Boolean)) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(f);
      } catch {
        throw badRequest('_typeFilter is not valid percent-encoding');
      }
      const [type, query = ''] = decoded.split('?');
      if (!all.has(type)) throw badRequest(`_typeFilter names an unknown type: ${type}`);
      filters.set(type, [...(filters.get(type) ?? []), new URLSearchParams(query)]);
    }
    const id = randomUUID();
    const now = new Date();
    await this.sql().query(
      `INSERT INTO bulk_export_job (id, account_id, client_id, request, status, transaction_time, expires_at, since, types) VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8)`,
      [
        id,
        ctx.actor.accountId ?? '',
        ctx.actor.clientId ?? null,
        requestUrl,
        now.toISOString(),
        new Date(now.getTime() + TTL_HOURS * 3_600_000).toISOString(),
        p._since ? new Date(p._since).toISOString() : null,
        readable,
      ],
    );
    const job = this.run(id, this.store.as(ctx), level, readable, p._since, filters, !!p._type, now.toISOString()).catch(async (e) => {
      await this.sql()
        .query(`UPDATE bulk_export_job SET status = 'failed', error = $2 WHERE id = $1 AND status = 'running'`, [id, (e as Error).message])
        .catch(() => undefined);
    });
    // A small export is planned before the answer (its first status request finds the manifest);
    // a larger one keeps running after it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job, new Promise<void>((resolve) => (timer = setTimeout(resolve, KICKOFF_WAIT_MS)))]);
    clearTimeout(timer);
    return id;
  }

  /**
   * The caller's job (with `also`: columns of one more table joined to it, in the same statement).
   * Another client's job is "not found": its existence is not disclosed; so is a cancelled one
   * (its files are gone).
   */
  private async job<T extends object = object>(
    ctx: AccessContext,
    id: string,
    also?: { columns: string; join: string; params: unknown[] },
  ): Promise<JobRow & T> {
    const r = await this.sql().query<JobRow & T>(
      `SELECT j.id, j.account_id, j.client_id, j.request, j.status, j.transaction_time, j.progress, j.error, j.since, j.patients, j.types${also ? `, ${also.columns}` : ''}
       FROM bulk_export_job j ${also?.join ?? ''} WHERE j.id = $1 AND j.expires_at > now() AND j.status <> 'cancelled'`,
      [id, ...(also?.params ?? [])],
    );
    const job = r.rows[0];
    if (!job || job.account_id !== (ctx.actor.accountId ?? '') || job.client_id !== (ctx.actor.clientId ?? null)) throw notFound(`No export job ${id}`);
    return job;
  }

  /** Running: progress text; done: the manifest; failed: the error. */
  async status(ctx: AccessContext, id: string): Promise<{ running: string } | { done: Manifest } | { failed: string }> {
    BulkExports.assertBackend(ctx);
    // The job and its files' manifest entries in one statement.
    const job = await this.job<{ files: { n: number; resource_type: string; count: number }[] | null }>(ctx, id, {
      columns: `(SELECT json_agg(json_build_object('n', f.n, 'resource_type', f.resource_type, 'count', f.count) ORDER BY f.n)
                 FROM bulk_export_file f WHERE f.job_id = j.id AND j.status = 'done') AS files`,
      join: '',
      params: [],
    });
    if (job.status === 'running') return { running: job.progress ?? 'starting' };
    if (job.status !== 'done') return { failed: job.error ?? job.status };
    // A narrower token of the same client sees the files (and counts) of the types it may read only.
    const files = { rows: (job.files ?? []).filter((f) => scopeAllows(ctx.actor.scopes ?? [], 'search', f.resource_type)) };
    return {
      done: {
        transactionTime: new Date(job.transaction_time).toISOString(),
        request: job.request,
        requiresAccessToken: true,
        output: files.rows.map((f) => ({ type: f.resource_type, url: `${this.fhirBase}/$export-file/${id}/${f.n}`, count: f.count })),
        error: [],
      },
    };
  }

  /**
   * One NDJSON file: a search-made file (_typeFilter) as kept; otherwise its row-id range read now,
   * as of the job's transaction time, through the caller's own repository (checked and audited).
   */
  async file(ctx: AccessContext, id: string, n: number): Promise<string | Readable> {
    BulkExports.assertBackend(ctx);
    // The job and the file in one statement.
    const f = await this.job<{ n: number | null; resource_type: string; content: string | null; after_rid: string | null; up_to_rid: string | null }>(ctx, id, {
      columns: 'f.n, f.resource_type, f.content, f.after_rid, f.up_to_rid',
      join: 'LEFT JOIN bulk_export_file f ON f.job_id = j.id AND f.n = $2',
      params: [n],
    });
    const job = f;
    if (f.n === null) throw notFound(`No file ${n} in export ${id}`);
    if (f.content !== null) {
      // A kept (search-made) file: the token downloading it must still be allowed to read its type
      // (a narrower token of the same client gets nothing more), and the download is audited with its patients.
      if (!scopeAllows(ctx.actor.scopes ?? [], 'search', f.resource_type)) throw new AccessDenied(`The token's scopes do not allow reading ${f.resource_type}`);
      await this.store.as(ctx).record({
        action: 'export',
        resourceType: f.resource_type,
        patientIds: patientsOf(f.content),
        detail: { operation: '$export', job: id, file: n, kept: true },
      });
      return f.content;
    }
    const { body } = await this.store.as(ctx).exportRange({
      types: [f.resource_type],
      ...(job.since ? { since: new Date(job.since).toISOString() } : {}),
      ...(job.patients ? { patients: job.patients } : {}),
      asOf: new Date(job.transaction_time).toISOString(),
      after: Number(f.after_rid),
      upTo: Number(f.up_to_rid),
    });
    return body;
  }

  /** Cancels the job and deletes its files: for a token that may read every type the job covers. */
  async cancel(ctx: AccessContext, id: string): Promise<void> {
    BulkExports.assertBackend(ctx);
    const job = await this.job<{ file_types: string[] | null }>(ctx, id, {
      columns: '(SELECT array_agg(DISTINCT f.resource_type) FROM bulk_export_file f WHERE f.job_id = j.id) AS file_types',
      join: '',
      params: [],
    });
    const denied = (job.types ?? job.file_types ?? []).filter((t) => !scopeAllows(ctx.actor.scopes ?? [], 'search', t));
    if (denied.length) throw new AccessDenied(`The token's scopes do not allow reading ${denied.join(', ')}, which this export covers: it cannot cancel it`);
    await this.sql().query(`UPDATE bulk_export_job SET status = 'cancelled' WHERE id = $1`, [id]);
    await this.sql().query('DELETE FROM bulk_export_file WHERE job_id = $1', [id]);
  }

  private async run(
    id: string,
    repo: Repository,
    level: ExportLevel,
    types: string[],
    since: string | undefined,
    filters: Map<string, URLSearchParams[]>,
    explicit: boolean,
    transactionTime: string,
  ) {
    const sql = this.sql();
    let n = 0;
    const buffers = new Map<string, string[]>();
    const flush = async (type: string) => {
      const lines = buffers.get(type);
      if (!lines?.length) return;
      await sql.query('INSERT INTO bulk_export_file (job_id, n, resource_type, count, content) VALUES ($1, $2, $3, $4, $5)', [
        id,
        ++n,
        type,
        lines.length,
        lines.join('\n') + '\n',
      ]);
      buffers.set(type, []);
    };
    const add = async (type: string, line: string) => {
      const lines = buffers.get(type) ?? [];
      lines.push(line);
      buffers.set(type, lines);
      if (lines.length >= CHUNK) await flush(type);
    };
    // Types with a _typeFilter go through the search (its parameters); the rest are read in
    // batches straight from the store as stored JSON text (one statement and one audit row per batch).
    const filtered = level.kind === 'system' ? types.filter((t) => filters.has(t)) : [];
    const plain = types.filter((t) => !filtered.includes(t));
    const patients =
      level.kind === 'system' ? undefined : level.kind === 'group' ? await this.groupPatients(repo, level.groupId) : await this.allPatients(repo);
    // The plan: counts per type and row-id ranges; each file is read when it is downloaded.
    if (!patients || patients.length > 0) {
      const asOf = new Date(transactionTime).toISOString();
      const plan = await repo.exportPlan({ types: plain, strictTypes: explicit, since, patients, asOf }, CHUNK);
      if (patients) await sql.query('UPDATE bulk_export_job SET patients = $2 WHERE id = $1', [id, patients]);
      // The files in one statement, which also ends the job when no _typeFilter search follows.
      await sql.query(
        `WITH files AS (INSERT INTO bulk_export_file (job_id, n, resource_type, count, after_rid, up_to_rid)
           SELECT $1::text, n, t, c, a, u FROM unnest($2::int[], $3::text[], $4::int[], $5::bigint[], $6::bigint[]) AS f(n, t, c, a, u))
         UPDATE bulk_export_job SET status = 'done', progress = NULL WHERE id = $1::text AND status = 'running' AND $7::boolean`,
        [id, plan.map(() => ++n), plan.map((f) => f.type), plan.map((f) => f.count), plan.map((f) => f.after), plan.map((f) => f.upTo), filtered.length === 0],
      );
      if (filtered.length === 0) return;
    }
    for (const type of filtered) {
      const seen = new Set<string>();
      for (const q of filters.get(type)!) {
        const params = new URLSearchParams(q);
        params.set('_count', PAGE);
        if (since) params.append('_lastUpdated', `ge${since}`);
        try {
          await this.pages(repo, type, params, async (r) => {
            if (seen.has(r.id!)) return;
            seen.add(r.id!);
            await add(type, JSON.stringify(r));
          });
        } catch (e) {
          // A type the caller's role may not read at all (e.g. AuditEvent) is left out of an export of "everything".
          if (!(e instanceof AccessDenied) || explicit) throw e;
        }
      }
    }
    for (const type of [...buffers.keys()].sort()) await flush(type);
    await sql.query(`UPDATE bulk_export_job SET status = 'done', progress = NULL WHERE id = $1 AND status = 'running'`, [id]);
  }

  private async pages(repo: Repository, type: string, params: URLSearchParams, each: (r: Resource) => Promise<void>) {
    let q: URLSearchParams | undefined = params;
    while (q) {
      const b = await repo.searchBundle(type, q);
      for (const e of b.entry ?? []) if (e.search?.mode !== 'include') await each(e.resource as Resource);
      const next: string | undefined = b.link?.find((l) => l.relation === 'next')?.url;
      q = next ? new URL(next).searchParams : undefined;
    }
  }

  private async allPatients(repo: Repository): Promise<string[]> {
    const ids: string[] = [];
    await this.pages(repo, 'Patient', new URLSearchParams({ _count: PAGE }), async (r) => void ids.push(r.id!));
    return ids;
  }

  private async groupPatients(repo: Repository, groupId: string): Promise<string[]> {
    const g = await repo.read<Group>('Group', groupId);
    return (g.member ?? [])
      .map((m) => m.entity.reference ?? '')
      .filter((r) => r.startsWith('Patient/'))
      .map((r) => r.slice('Patient/'.length));
  }
}
