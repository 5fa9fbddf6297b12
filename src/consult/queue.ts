/**
 * The triage queue as a table (consult_queue), derived from Tasks: one row per case waiting
 * (business status "submitted") at a facility, with its urgency rank and when it was asked. Every
 * Task write goes through here inside its own transaction, whichever way it came (this service, the
 * FHIR API, a bulk load), so the table never disagrees with the record.
 */
import type { Task } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { WriteListener } from '../fhir/storage.ts';
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

export const consultQueueOnWrite: WriteListener = async (q: Queryable, e) => {
  if (e.resourceType !== 'Task') return;
  if (e.method !== 'POST') await q.query('DELETE FROM consult_queue WHERE task_rid = $1', [e.rid]);
  if (e.deleted || !e.resource) return;
  const row = queueRow(e.resource as Task);
  if (!row) return;
  await q.query('INSERT INTO consult_queue (task_rid, organization_id, rank, authored_on) VALUES ($1, $2, $3, $4)', [e.rid, row.organizationId, row.rank, row.authoredOn]);
};

/** One page of a facility's queue: most urgent first, then longest waiting. */
export async function queuePage(q: Queryable, organizationId: string, limit: number): Promise<Task[]> {
  const r = await q.query<{ content: string }>(
    `SELECT v.content::text AS content
     FROM consult_queue c JOIN resource r ON r.rid = c.task_rid JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
     WHERE c.organization_id = $1 AND NOT r.deleted
     ORDER BY c.rank, c.authored_on, c.task_rid LIMIT $2`,
    [organizationId, limit],
  );
  return r.rows.map((x) => JSON.parse(x.content) as Task);
}
