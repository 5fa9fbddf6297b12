/**
 * The bulk read behind FHIR Bulk Data `$export` (src/formats/bulk), in two steps. The plan
 * (`exportPlan`, at kick-off) counts what the export holds per type and cuts each type into
 * files of at most `fileSize` rows by row id. A file (`exportRange`, when the client downloads
 * it) is one statement over one row-id range, returning the stored JSON text — the wire form,
 * never parsed and re-serialised. Both read each resource as it was at the export's
 * transaction time (its last version not after it; a resource created or deleted later is not
 * in the export), so what is served matches the manifest whenever it is downloaded.
 * Internal to src/fhir; reached through `Repository.exportPlan` / `exportRange`.
 *
 * Rules: the same checks as a search, decided set-wise in SQL for every row: the type policy and
 * scopes for every type asked for (a type the principal may not search is refused when named
 * explicitly, left out otherwise), the patient-reach restriction on every row (a row shows only
 * when every patient it names is in reach, as a search shows it), and at Patient/Group level every
 * patient of the set must be reachable or the export is refused. Audit, in the same transaction
 * as the read: the plan is one row (counts per type, no resource content); each file served is one
 * row naming every patient whose data it holds and its count.
 */
import { Readable } from 'node:stream';
import pg from 'pg';
import { to } from 'pg-copy-streams';
import type { PgliteDb, PostgresDb, Queryable } from '../db/db.ts';
import { auditInsertSql } from '../audit/audit.ts';
import { COPY_BINARY, COPY_NDJSON, NdjsonCheck, ndjsonFromBinary } from '../db/copy-ndjson.ts';
import type { Principal } from '../auth/principal.ts';
import { AccessDenied, REACH_ALL } from '../auth/access.ts';
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
  /** Internal: the patients' reach was checked by this request's first statement. */
  reachChecked?: boolean;
}

export interface ExportFilePlan {
  type: string;
  count: number;
  /** Row-id range (after, upTo]. */
  after: number;
  upTo: number;
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
 * `v`, for the rows the principal may see in the scope; `range` keeps row ids in (after, upTo] — on
 * both tables, so a file reads its versions through resource_version's primary key rather than
 * hashing the whole table (the planner does not carry r's range over the join).
 */
async function selection(
  engine: FhirService,
  q: Queryable,
  p: Principal,
  scope: ExportScope,
  types: string[],
  bind: (v: unknown) => string,
  range?: { after: number; upTo: number },
): Promise<(columns: string) => string> {
  if (Number.isNaN(Date.parse(scope.asOf)) || (scope.since !== undefined && Number.isNaN(Date.parse(scope.since))))
    throw new Error('asOf and since must be instants');
  const where = [`r.resource_type = ANY(${bind(types)}::text[])`];
  let versionRange = '';
  if (range) {
    const [after, upTo] = [bind(range.after), bind(range.upTo)];
    where.push(`r.rid > ${after}::bigint`, `r.rid <= ${upTo}::bigint`);
    versionRange = ` AND v.rid > ${after}::bigint AND v.rid <= ${upTo}::bigint`;
  }
  const since = scope.since === undefined ? undefined : bind(new Date(scope.since).toISOString());
  if (scope.patients) {
    if (p.kind === 'actor' && !scope.reachChecked) {
      // Every patient of the set must be in reach: one statement for the whole set.
      const checkParams: unknown[] = [];
      const checkBind = (v: unknown) => `$${checkParams.push(v)}`;
      const reach = engine.guard.access.patientsReachSql(p.ctx.actor, checkBind, `${checkBind(scope.patients)}::text[]`);
      if (reach !== REACH_ALL) {
        const r = await q.query<{ allowed: boolean }>(reach, checkParams);
        if (!r.rows[0].allowed)
          throw new AccessDenied('Không có quyền truy cập hồ sơ của mọi người bệnh trong nhóm (a patient of the export is not in your care)');
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
  ) => `SELECT ${columns} FROM resource r${/\bv\./.test(columns) ? ` JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id${versionRange}` : ''}
      WHERE r.last_updated <= ${asOf}::timestamptz AND NOT r.deleted AND ${cond}${since ? ` AND r.last_updated >= ${since}::timestamptz` : ''}
    UNION ALL
    SELECT ${columns} FROM resource r
      JOIN LATERAL (SELECT x.content, x.last_updated FROM resource_version x WHERE x.rid = r.rid AND x.last_updated <= ${asOf}::timestamptz
                    ORDER BY x.version_id DESC LIMIT 1) v ON v.content IS NOT NULL
      WHERE r.last_updated > ${asOf}::timestamptz AND ${cond}${since ? ` AND v.last_updated >= ${since}::timestamptz` : ''}`;
}

/** Counts per type, cut into files of at most `fileSize` rows by row id; one audit row, in the same statement. */
export async function exportPlan(engine: FhirService, p: Principal, scope: ExportScope, fileSize: number, tx?: Queryable): Promise<ExportFilePlan[]> {
  const types = allowedTypes(engine, p, scope);
  if (types.length === 0) return [];
  const q = tx ?? engine.storage.db;
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const select = await selection(engine, q, p, scope, types, bind);
  const size = bind(Math.max(1, Math.floor(fileSize)));
  const detail = { operation: '$export', step: 'plan', level: scope.patients ? 'patients' : 'system' };
  const entry = engine.guard.entryFor(p, { action: 'search', outcome: 'success', detail });
  const counts = "(SELECT jsonb_build_object('counts', coalesce(jsonb_object_agg(type, total), '{}'::jsonb)) FROM t)";
  // A type of at most one file's rows needs only its count and last row id; only larger ones are numbered.
  const r = await q.query<{ type: string; rid: string | number; n: string | number; total: string | number }>(
    `WITH sel AS MATERIALIZED (${select('r.resource_type AS type, r.rid')}),
       t AS (SELECT type, count(*) AS total, max(rid) AS last FROM sel GROUP BY type)
       ${entry ? `, ins AS (${auditInsertSql(bind, entry, { patientIds: 'ARRAY[]::text[]', breakGlass: 'false', detailExtra: counts })})` : ''}
     SELECT type, last AS rid, total AS n, total FROM t WHERE total <= ${size}::bigint
     UNION ALL
     SELECT type, rid, n, total FROM (
       SELECT s.type, s.rid, row_number() OVER (PARTITION BY s.type ORDER BY s.rid) AS n, t.total
       FROM sel s JOIN t ON t.type = s.type WHERE t.total > ${size}::bigint) numbered
     WHERE n % ${size}::bigint = 0 OR n = total
     ORDER BY type, rid`,
    params,
  );
  const files: ExportFilePlan[] = [];
  let prev = { type: '', rid: 0, n: 0 };
  for (const row of r.rows) {
    const start = row.type === prev.type ? prev : { type: row.type, rid: 0, n: 0 };
    files.push({ type: row.type, count: Number(row.n) - start.n, after: start.rid, upTo: Number(row.rid) });
    prev = { type: row.type, rid: Number(row.rid), n: Number(row.n) };
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
 * One file: the rows of one type in a row-id range, as NDJSON bytes — the stored JSON text of each
 * row (jsonb's text form: one line, no newline inside), never parsed or re-serialised, in no
 * particular order. One statement counts the rows, names every patient whose data they hold
 * (each row's `patients`, read in the same scan, as a search does) and appends the audit row with them; it commits before anything is sent (nothing goes out before the access is
 * recorded; on PostgreSQL the rows' COPY runs beside it on another connection, its output held
 * until then and dropped if the audit fails). The rows: one `COPY (SELECT content::text …) TO …` (copy-ndjson.ts) — on
 * PostgreSQL in the CSV form whose output is the NDJSON itself, streamed from a pooled connection
 * of its own straight into the answer; on PGlite in the binary form into its blob, the values then
 * taken out of their framing; inside a caller's transaction one plain statement.
 * Both statements are built by the same `selection` from the same scope, so they read the same rows
 * (as of the export's transaction time).
 */
export async function exportRange(
  engine: FhirService,
  p: Principal,
  scope: ExportScope & { after: number; upTo: number },
  tx?: Queryable,
): Promise<{ count: number; body: Readable }> {
  const types = allowedTypes(engine, p, { ...scope, strictTypes: true });
  const range = { after: scope.after, upTo: scope.upTo };
  const db = engine.storage.db;
  // One statement, no transaction of its own needed: the count, the patients and the audit row commit together.
  const q0 = tx ?? db;
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const select = await selection(engine, q0, p, scope, types, bind, range);
  const found = `sel AS MATERIALIZED (${select('r.patients')}),
    s AS (SELECT (SELECT count(*) FROM sel)::int AS n, ARRAY(SELECT DISTINCT x FROM sel, unnest(sel.patients) AS x) AS patients)`;
  const detail = { operation: '$export', level: scope.patients ? 'patients' : 'system' };
  const entry = engine.guard.entryFor(p, { action: 'export', outcome: 'success', resourceType: types[0], detail });
  // The rows' COPY (the patients were checked above — the same scope, the same instant's rights — not again).
  const copy = async () => {
    const rows = `COPY (${(await selection(engine, db, p, { ...scope, reachChecked: true }, types, literal, range))('v.content::text')}) TO`;
    return db.kind === 'postgres'
      ? copyLines(db as PostgresDb, `${rows} STDOUT (${COPY_NDJSON})`)
      : copyBlobLines(db as PgliteDb, `${rows} '/dev/blob' (${COPY_BINARY})`);
  };
  let count: number;
  if (entry) {
    const insert = auditInsertSql(bind, entry, { patientIds: 's.patients', breakGlass: 'false', detailExtra: "jsonb_build_object('resources', s.n)" }, 's');
    const audit = q0.query<{ n: number }>(`WITH ${found}, ins AS (${insert}) SELECT n FROM s`, params);
    if (!tx && db.kind === 'postgres') {
      // PostgreSQL: the COPY starts on a connection of its own beside the audit statement, so the
      // two passes overlap; its output is held (a paused stream: nothing is sent) until the audit
      // row has committed, and dropped if the audit fails.
      const body = copy();
      body.catch(() => undefined); // awaited below; not "unhandled" while the audit runs
      try {
        count = Number((await audit).rows[0].n);
      } catch (e) {
        void body.then((b) => b.destroy()).catch(() => undefined);
        throw e;
      }
      // Nothing counted, nothing named in the audit row: nothing is sent, whatever the COPY found.
      if (count === 0) {
        void body.then((b) => b.destroy()).catch(() => undefined);
        return { count, body: Readable.from([]) };
      }
      return { count, body: await body };
    }
    count = Number((await audit).rows[0].n);
  } else {
    // An open unit of work collects the audit entry and writes it when it commits.
    const r = await q0.query<{ n: number; patients: string[] }>(`WITH ${found} SELECT n, patients FROM s`, params);
    count = Number(r.rows[0].n);
    await engine.guard.record(q0, p, {
      action: 'export',
      outcome: 'success',
      resourceType: types[0],
      patientIds: r.rows[0].patients,
      detail: { ...detail, resources: count },
    });
  }
  if (count === 0) return { count, body: Readable.from([]) };
  if (!tx) return { count, body: await copy() };
  const contentParams: unknown[] = [];
  const bindContent = (v: unknown) => `$${contentParams.push(v)}`;
  const contentSelect = await selection(engine, tx, p, { ...scope, reachChecked: true }, types, bindContent, range);
  const r = await tx.query<{ content: string }>(contentSelect('v.content::text AS content'), contentParams);
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

/**
 * PGlite: the binary COPY into its blob, its values taken out as NDJSON (copy-ndjson.ts: cheaper for
 * PGlite, which runs in this thread, than the CSV form). The whole file is in memory twice at most:
 * files are ≤ the plan's file size.
 */
async function copyBlobLines(db: PgliteDb, sql: string): Promise<Readable> {
  const r = await db.pglite.query(sql);
  return Readable.from([ndjsonFromBinary(Buffer.from(await r.blob!.arrayBuffer()))]);
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
