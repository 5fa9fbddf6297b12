/**
 * Keeps `resource.patients` (migration 240: whose data each resource is) true for rows the write
 * path did not compute: rows stored before the migration, and every row when the patient
 * compartment's link parameters change (a new CompartmentDefinition, an entry added to
 * compartment.ts). Run at start by `FhirService.prepare`, before the store serves.
 *
 * Rules: `resource_patients_basis` holds the link parameters the column was computed with; when it
 * equals today's, nothing runs (one small read per start). Otherwise, in one transaction holding
 * writes off the resource table (EXCLUSIVE lock: reads go on; a second node starting waits, then
 * finds the work done): live rows are recomputed from their stored reference index (as a write
 * computes them: a Patient itself, the Patients its link parameters name), deleted rows from
 * their last live version's content (their index rows are gone), the column becomes NOT NULL (an
 * older node's insert without it fails rather than writing an unfilled row) and the basis is
 * stored.
 */
import type { Db, Queryable } from '../db/db.ts';
import type { SearchRegistry } from './searchparams.ts';
import { extractIndexRows } from './searchparams.ts';
import { parseStored } from './storage.ts';
import { setPatients } from './storage-rows.ts';

/** Any fixed number: serialises the fill when several API nodes start at once. */
const FILL_LOCK = 4_242_003;

const sameLinks = (a: number[] | undefined, b: number[]) => !!a && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Fills or recomputes every row's patients when the basis differs from the link parameters (the
 * registry's compartment unless given); returns the rows written.
 */
export async function fillPatients(db: Db, registry: SearchRegistry, linkParams = [...registry.compartment.values()].flat()): Promise<number> {
  const links = [...new Set(linkParams)].sort((x, y) => x - y);
  const stored = async (q: Queryable) => (await q.query<{ links: number[] }>('SELECT links FROM resource_patients_basis')).rows[0]?.links.map(Number);
  if (sameLinks(await stored(db), links)) return 0;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [FILL_LOCK]);
    if (sameLinks(await stored(tx), links)) return 0;
    await tx.query('LOCK TABLE resource IN EXCLUSIVE MODE');
    const live = await tx.query(
      `UPDATE resource r SET patients = CASE WHEN r.resource_type = 'Patient' THEN ARRAY[r.id]
         ELSE ARRAY(SELECT DISTINCT x.target_id FROM idx_reference x WHERE x.rid = r.rid AND x.param = ANY($1::smallint[]) AND x.target_type = 'Patient') END
       WHERE NOT r.deleted`,
      [links],
    );
    const deleted = await fillDeleted(tx, registry);
    await tx.query('ALTER TABLE resource ALTER COLUMN patients SET NOT NULL');
    await tx.query('DELETE FROM resource_patients_basis');
    await tx.query('INSERT INTO resource_patients_basis (links) VALUES ($1::smallint[])', [links]);
    return (live.rowCount ?? 0) + deleted;
  });
}

/** Deleted rows: the patients of their last live version, extracted from its content as a write would. */
async function fillDeleted(q: Queryable, registry: SearchRegistry): Promise<number> {
  let after = 0;
  let done = 0;
  for (;;) {
    const batch = await q.query<{ rid: number; content: string | null }>(
      `SELECT r.rid, (SELECT v.content::text FROM resource_version v WHERE v.rid = r.rid AND v.content IS NOT NULL ORDER BY v.version_id DESC LIMIT 1) AS content
       FROM resource r WHERE r.deleted AND r.rid > $1 ORDER BY r.rid LIMIT 500`,
      [after],
    );
    if (batch.rows.length === 0) return done;
    const items = batch.rows.map((row) => {
      const resource = row.content === null ? undefined : parseStored(row.content);
      const rows = resource ? extractIndexRows(resource, registry.forType(resource.resourceType)) : { patients: [] as string[] };
      return { rid: Number(row.rid), rows: { patients: rows.patients } };
    });
    await setPatients(q, items);
    done += items.length;
    after = Number(batch.rows[batch.rows.length - 1].rid);
  }
}
