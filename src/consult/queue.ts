/**
 * The triage queue as a table (consult_queue), derived from Tasks: one row per case waiting
 * (business status "submitted") at a facility, with its urgency rank and when it was asked. Every
 * Task write goes through here inside its own transaction, whichever way it came (the consult
 * workflow, the FHIR API, a bulk load), so the table never disagrees with the record.
 *
 * Rules: the listener and the page reader get the consult domain's DomainSql only (the table
 * holds the Task's id; the Tasks themselves are then read through the acting repository).
 */
import type { Task } from '@medplum/fhirtypes';
import type { DomainSql } from '../db/domain-sql.ts';
import type { DomainWriteListener } from '../fhir/store.ts';
import { STATE_SYSTEM } from './workflow.ts';

/** Emergency (stat, asap) before urgent before routine; no priority counts as routine. */
export const QUEUE_RANK: Record<string, number> = { stat: 0, asap: 0, urgent: 1, routine: 2 };

/** The queue row a Task stands for, or undefined when it is not waiting for triage. */
export function queueRow(t: Task): { organizationId: string; rank: number; authoredOn: string } | undefined {
  const owner = t.owner?.reference;
  if (!owner?.startsWith('Organization/') || !t.authoredOn) return undefined;
  if (!t.businessStatus?.coding?.some((c) => c.system === STATE_SYSTEM && c.code === 'submitted')) return undefined;
  const at = Date.parse(t.authoredOn);
  if (Number.isNaN(at)) return undefined;
  return { organizationId: owner.slice('Organization/'.length), rank: QUEUE_RANK[t.priority ?? 'routine'] ?? 2, authoredOn: new Date(at).toISOString() };
}

export const consultQueueOnWrite: DomainWriteListener = async (sql, e) => {
  if (e.resourceType !== 'Task') return;
  if (e.method !== 'POST') await sql.query('DELETE FROM consult_queue WHERE task_rid = $1', [e.rid]);
  if (e.deleted || !e.resource) return;
  const row = queueRow(e.resource as Task);
  if (!row) return;
  await sql.query('INSERT INTO consult_queue (task_rid, task_id, organization_id, rank, authored_on) VALUES ($1, $2, $3, $4, $5)', [
    e.rid,
    e.id,
    row.organizationId,
    row.rank,
    row.authoredOn,
  ]);
};

/** The Task ids of one page of a facility's queue: most urgent first, then longest waiting. */
export async function queuePage(sql: DomainSql, organizationId: string, limit: number): Promise<string[]> {
  const r = await sql.query<{ task_id: string }>('SELECT task_id FROM consult_queue WHERE organization_id = $1 ORDER BY rank, authored_on, task_rid LIMIT $2', [
    organizationId,
    limit,
  ]);
  return r.rows.map((x) => x.task_id);
}
