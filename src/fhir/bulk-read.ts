/**
 * The bulk read behind FHIR Bulk Data `$export` (src/formats/bulk), in two steps. The plan
 * (`exportPlan`, at kick-off) is one statement: what the export holds per type, cut into files of
 * at most `fileSize` rows by row id, each with its row ids and the patients those rows name. A file
 * (`exportRange`, when the client downloads it) is one statement over the planned rows, returning
 * the stored JSON text — the wire form, never parsed and re-serialised. Both read each resource as
 * it was at the export's transaction time (its last version not after it; a resource created or
 * deleted later is not in the export), and a file serves no row the plan did not find: the export
 * is a snapshot, what is served matches the manifest whenever it is downloaded.
 * Internal to src/fhir; reached through `Repository.exportPlan` / `exportRange`.
 *
 * Rules: the same checks as a search, decided set-wise in SQL for every row, at the plan and again
 * for the principal downloading each file: the type policy and scopes for every type asked for (a
 * type the principal may not search is refused when named explicitly, left out otherwise), the
 * patient-reach restriction on every row (a row shows only when every patient it names is in
 * reach, as a search shows it), and at Patient/Group level every patient of the set must be
 * reachable or the export is refused. Audit: the plan is one row (counts per type, no resource
 * content) in its statement; each file served is one row, committed before its first byte, naming
 * the patients the plan found in its rows and their count (`planned`: the transaction time) — the
 * download serves those rows or, where access narrowed since, fewer; never a row outside them.
 */
import { Readable } from 'node:stream';
import pg from 'pg';
import { to } from 'pg-copy-streams';
import type { PgliteDb, PostgresDb, Queryable } from '../db/db.ts';
import { auditInsertSql } from '../audit/audit.ts';
import { COPY_NDJSON, NdjsonCheck, checkNdjson } from '../db/copy-ndjson.ts';
import type { Principal } from '../auth/principal.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirService } from './service.ts';

export interface ExportScope {
  /** Resource types to read. */
  types: string[];
  /** Refuse (rather than leave out) a type the principal may not search. */
  strictTypes?: boolean;
  /** Only resources last updated at or after this instant. */
  since?: string;
  /** Patient/Group level: the patients whose compartments (and what those point at) are read. */
  patients?: string[];
  /** The export's transaction time: each resource as it was then. */
  asOf: string;
}

export interface ExportFilePlan {
  type: string;
  count: number;
  /** Row-id range (after, upTo]. */
  after: number;
  upTo: number;
  /** The row ids the plan found in the range: a download serves none outside them. */
  rids: number[];
  /** Every patient whose data those rows hold (named by the download's audit row). */
  patients: string[];
}

/** The types the principal may export, of those asked for. */
function allowedTypes(engine: FhirService, p: Principal, scope: ExportScope): string[] {
  const types: string[] = [];
  for (const t of scope.types) {
    engine.assertType(t);
    try {
      engine.guard.assertAction(p, 'search', t);
      types.push(t);
    } catch (e) {
      if (scope.strictTypes || !(e instanceof AccessDenied)) throw e;
    }
  }
  return types;
}

/**
 * A SELECT of the given columns over `resource r` joined to its version at the transaction time
 * `v`, for the rows the principal may see in the scope; `extra` adds conditions on r.
 */
async function selection(
  engine: FhirService,
  q: Queryable,
  p: Principal,
  scope: ExportScope,
  types: string[],
  bind: (v: unknown) => string,
  extra: string[],
): Promise<(columns: string) => string> {
  if (Number.isNaN(Date.parse(scope.asOf)) || (scope.since !== undefined && Number.isNaN(Date.parse(scope.since))))
    throw new Error('asOf and since must be instants');
  const where = [`r.resource_type = ANY(${bind(types)}::text[])`, ...extra];
  const since = scope.since === undefined ? undefined : bind(new Date(scope.since).toISOString());
  if (scope.patients) {
    if (p.kind === 'actor') {
      // Every patient of the set must be in reach: one statement for the whole set.
      const checkParams: unknown[] = [];
      const checkBind = (v: unknown) => `$${checkParams.push(v)}`;
      const allowed = engine.guard.access.patientsAllowedSql(p.ctx.actor, checkBind, `${checkBind(scope.patients)}::text[]`).allowed;
      if (allowed !== 'true') {
        const r = await q.query<{ ok: boolean }>(`SELECT ${allowed} AS ok`, checkParams);
        if (!r.rows[0].ok) throw new AccessDenied('Không có quyền truy cập hồ sơ của mọi người bệnh trong nhóm (a patient of the export is not in your care)');
      }
    }
    const set = bind(scope.patients);
    const paramIds = bind([...engine.compartment.values()].flat());
    where.push(`r.rid IN (
        WITH members AS (
          SELECT rid FROM resource WHERE resource_type = 'Patient' AND id = ANY(${set}::text[])
          UNION SELECT rid FROM idx_reference WHERE target_type = 'Patient' AND target_id = ANY(${set}::text[]) AND param = ANY(${paramIds}::smallint[])
        )
        SELECT rid FROM members
        UNION SELECT t.rid FROM idx_reference ref JOIN resource t ON t.resource_type = ref.target_type AND t.id = ref.target_id
        WHERE ref.rid IN (SELECT rid FROM members))`);
  }
  const hidden = engine.guard.restriction(p)?.(bind, 'r');
  if (hidden) where.push(hidden);
  // The version current at the transaction time: for a resource unchanged since (nearly all), its
  // current version by a plain join (as the raw COPY reads it); for one changed since, its last
  // version not after the transaction time. A resource row and its current version are written
  // together with the same last_updated, so the first branch tests `since` on r, and a statement
  // reading no content (`v.` in no column: counts, ids) leaves that join out — the same rows.
  const asOf = bind(new Date(scope.asOf).toISOString());
  const cond = where.join(' AND ');
  return (
    columns: string,
  ) => `SELECT ${columns} FROM resource r${/\bv\./.test(columns) ? ' JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id' : ''}
      WHERE r.last_updated <= ${asOf}::timestamptz AND NOT r.deleted AND ${cond}${since ? ` AND r.last_updated >= ${since}::timestamptz` : ''}
    UNION ALL
    SELECT ${columns} FROM resource r
      JOIN LATERAL (SELECT x.content, x.last_updated FROM resource_version x WHERE x.rid = r.rid AND x.last_updated <= ${asOf}::timestamptz
                    ORDER BY x.version_id DESC LIMIT 1) v ON v.content IS NOT NULL
      WHERE r.last_updated > ${asOf}::timestamptz AND ${cond}${since ? ` AND v.last_updated >= ${since}::timestamptz` : ''}`;
}

/**
 * Counts per type, cut into files of at most `fileSize` rows by row id, each file with its rows'
 * ids and the patients whose data they hold (a Patient's id, the rest through the reference index,
 * as a search names them); one audit row (`search`, the counts), in the same statement.
 */
export async function exportPlan(engine: FhirService, p: Principal, scope: ExportScope, fileSize: number, tx?: Queryable): Promise<ExportFilePlan[]> {
  const types = allowedTypes(engine, p, scope);
  if (types.length === 0) return [];
  const q = tx ?? engine.storage.db;
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const select = await selection(engine, q, p, scope, types, bind, []);
  const size = bind(Math.max(1, Math.floor(fileSize)));
  const detail = { operation: '$export', step: 'plan', level: scope.patients ? 'patients' : 'system' };
  const entry = engine.guard.entryFor(p, { action: 'search', outcome: 'success', detail });
  const counts = "(SELECT jsonb_build_object('counts', coalesce(jsonb_object_agg(type, total), '{}'::jsonb)) FROM (SELECT type, sum(n) AS total FROM files GROUP BY type) t)";
  const r = await q.query<{ type: string; n: string | number; last: string | number; rids: (string | number)[]; patients: string[] }>(
    `WITH sel AS MATERIALIZED (${select('r.resource_type AS type, r.rid, r.id')}),
       files AS (SELECT type, f, count(*) AS n, max(rid) AS last, array_agg(rid ORDER BY rid) AS rids,
                        coalesce(array_agg(id) FILTER (WHERE type = 'Patient'), ARRAY[]::text[]) AS ids
                 FROM (SELECT type, rid, id, (row_number() OVER (PARTITION BY type ORDER BY rid) - 1) / ${size}::bigint AS f FROM sel) numbered
                 GROUP BY type, f)
       ${entry ? `, ins AS (${auditInsertSql(bind, entry, { patientIds: 'ARRAY[]::text[]', breakGlass: 'false', detailExtra: counts })})` : ''}
     SELECT type, n, last, rids,
            ARRAY(SELECT unnest(ids) UNION SELECT x.target_id FROM idx_reference x
                  WHERE x.rid = ANY(files.rids) AND x.param = ANY(${engine.guard.access.compartmentParamsSql}) AND x.target_type = 'Patient') AS patients
     FROM files ORDER BY type, f`,
    params,
  );
  const files: ExportFilePlan[] = [];
  let prev = { type: '', last: 0 };
  for (const row of r.rows) {
    const after = row.type === prev.type ? prev.last : 0;
    files.push({ type: row.type, count: Number(row.n), after, upTo: Number(row.last), rids: row.rids.map(Number), patients: row.patients });
    prev = { type: row.type, last: Number(row.last) };
  }
  if (!entry) {
    // An open unit of work collects the audit entry and writes it when it commits.
    const byType: Record<string, number> = {};
    for (const f of files) byType[f.type] = (byType[f.type] ?? 0) + f.count;
    await engine.guard.record(q, p, { action: 'search', outcome: 'success', detail: { ...detail, counts: byType } });
  }
  return files;
}

/**
 * The SQL literal of a bound value, in the text form node-postgres sends a parameter in (COPY takes
 * no parameters): strings, numbers, instants, and arrays of those as an array literal.
 */
function literal(v: unknown): string {
  const text = (x: unknown): string => {
    if (x instanceof Date) return x.toISOString();
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') return String(x);
    throw new Error(`cannot inline ${typeof x} into an export statement`);
  };
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return pg.escapeLiteral(`{${v.map((x) => `"${text(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`);
  return pg.escapeLiteral(text(v));
}

/**
 * One file of the plan: its rows of one type, as NDJSON bytes — the stored JSON text of each row
 * (jsonb's text form: one line, no newline inside), never parsed or re-serialised, in no particular
 * order. The export is a snapshot: the rows are read as of the export's transaction time and only
 * among the row ids the plan found (a row committed later, even with an earlier timestamp, is not
 * served), and the downloading principal's access is decided again on every row (type and scopes
 * here, the patient reach in the statement), so a file serves at most the planned rows. First the
 * audit row is appended — the patients and count the plan found for those rows (`planned`: the
 * transaction time), committed before anything is sent; if access narrowed since, it names a
 * patient whose rows were then left out, never one less. Then one
 * `COPY (SELECT content::text …) TO …` whose output is the NDJSON itself (copy-ndjson.ts) — on
 * PostgreSQL streamed from a pooled connection of its own straight into the answer, on PGlite into
 * its blob; inside a caller's transaction one plain statement.
 */
export async function exportRange(
  engine: FhirService,
  p: Principal,
  scope: ExportScope,
  file: ExportFilePlan,
  tx?: Queryable,
): Promise<{ count: number; body: Readable }> {
  const types = allowedTypes(engine, p, { ...scope, types: [file.type], strictTypes: true });
  const rows = (bind: (v: unknown) => string) => [
    `r.rid > ${bind(file.after)}::bigint`,
    `r.rid <= ${bind(file.upTo)}::bigint`,
    `r.rid = ANY(${bind(file.rids)}::bigint[])`,
  ];
  const db = engine.storage.db;
  const q = tx ?? db;
  // Built first: at Patient/Group level this checks (one statement) that every patient of the set is in reach.
  const contentParams: unknown[] = [];
  const bindContent = (v: unknown) => `$${contentParams.push(v)}`;
  const contentSelect = tx ? await selection(engine, tx, p, scope, types, bindContent, rows(bindContent)) : undefined;
  const copySelect = tx ? undefined : await selection(engine, db, p, scope, types, literal, rows(literal));
  const count = file.rids.length;
  const detail = { operation: '$export', level: scope.patients ? 'patients' : 'system', resources: count, planned: new Date(scope.asOf).toISOString() };
  // Not in a unit of work: a statement of its own, committed before the first byte; in one, written when it commits.
  await engine.guard.record(q, p, { action: 'export', outcome: 'success', resourceType: file.type, patientIds: file.patients, detail });
  if (count === 0) return { count, body: Readable.from([]) };
  if (copySelect) {
    const copy = `COPY (${copySelect('v.content::text')}) TO ${db.kind === 'postgres' ? 'STDOUT' : "'/dev/blob'"} (${COPY_NDJSON})`;
    return { count, body: db.kind === 'postgres' ? await copyLines(db as PostgresDb, copy) : await copyBlobLines(db as PgliteDb, copy) };
  }
  const r = await tx!.query<{ content: string }>(contentSelect!('v.content::text AS content'), contentParams);
  const lines: string[] = [];
  for (let i = 0; i < r.rows.length; i += 1000)
    lines.push(
      r.rows
        .slice(i, i + 1000)
        .map((x) => x.content)
        .join('\n') + '\n',
    );
  return { count, body: Readable.from(lines) };
}

/** PGlite: the NDJSON COPY into its blob (the whole file is in memory once: files are ≤ the plan's file size). */
async function copyBlobLines(db: PgliteDb, sql: string): Promise<Readable> {
  const r = await db.pglite.query(sql);
  return Readable.from([checkNdjson(Buffer.from(await r.blob!.arrayBuffer()))]);
}

/** The NDJSON COPY on a pooled connection of its own, checked as it passes (copy-ndjson.ts); the connection goes back when the stream ends or fails. */
async function copyLines(db: PostgresDb, sql: string): Promise<Readable> {
  const client = await db.pool.connect();
  const ignore = () => undefined;
  let released = false;
  const release = (e?: Error) => {
    if (released) return;
    released = true;
    client.off('error', ignore);
    client.release(e);
  };
  client.on('error', ignore);
  const copy = client.query(to(sql));
  const lines = new NdjsonCheck();
  copy.on('error', (e: Error) => {
    release(e);
    lines.destroy(e);
  });
  lines.on('close', () => {
    // Destroyed early (the client went away): the connection is not reusable mid-COPY.
    if (!released) release(copy.readableEnded ? undefined : new Error('export stream closed early'));
  });
  copy.on('end', () => release());
  copy.pipe(lines);
  return lines;
}
