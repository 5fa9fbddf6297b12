/**
 * Family members a citizen manages (family_link, recorded by staff who saw the proof): a parent
 * exercises a child's rights over their data — reading the record, seeing who accessed it,
 * giving or withdrawing consent — the way the citizen does for their own.
 *
 * The questions here take any DomainSql whose grant can read family_link (src/db/domain-sql.ts):
 * other domains ask them; only the family domain writes links.
 */
import type { Queryable } from '../db/db.ts';
import { AccessDenied } from '../auth/access.ts';
import type { Actor } from '../auth/actor.ts';
import type { FamilyRelation } from './contract.ts';

/** The active link between a manager and a member, if any (its RelatedPerson names the manager's role). */
export async function familyLink(q: Queryable, managerPatientId: string, patientId: string): Promise<{ id: string; relatedPersonId: string } | undefined> {
  const row = (
    await q.query<{ id: string; related_person_id: string }>(
      'SELECT id, related_person_id FROM family_link WHERE manager_patient_id = $1 AND patient_id = $2 AND revoked_at IS NULL',
      [managerPatientId, patientId],
    )
  ).rows[0];
  return row && { id: row.id, relatedPersonId: row.related_person_id };
}

export interface DataSubject {
  patientId: string;
  /** Set when the citizen acts for a family member: the RelatedPerson that says how they are related. */
  asRelatedPerson?: string;
}

/**
 * Whose own-data right a citizen is exercising: their own record (no `requested`, or their own id),
 * or — signed in themselves, not through an app's token — a family member they manage. Anything
 * else is refused (403, audited with the patient named).
 */
export async function dataSubject(q: Queryable, actor: Actor, requested?: string): Promise<DataSubject> {
  const self = actor.patientId;
  if (!self) throw new AccessDenied('Tài khoản chưa gắn với hồ sơ người bệnh (no patient record linked)', 403);
  if (!requested || requested === self) return { patientId: self };
  // Family reach is for the citizen signed in themselves, like the access rules (access.ts): an app
  // holding a patient-context token acts for that one patient only.
  const link = actor.role === 'citizen' && actor.via === 'session' ? await familyLink(q, self, requested) : undefined;
  if (!link)
    throw new AccessDenied(
      'Bạn chỉ xem và quyết định cho hồ sơ của mình hoặc người thân bạn quản lý (only your own record or a family member you manage)',
      403,
      false,
      requested,
    );
  return { patientId: requested, asRelatedPerson: link.relatedPersonId };
}

/** Does this citizen manage any of these patients (an active link to at least one)? */
export async function managesAny(q: Queryable, managerPatientId: string, patientIds: string[]): Promise<boolean> {
  if (patientIds.length === 0) return false;
  const r = await q.query('SELECT 1 FROM family_link WHERE manager_patient_id = $1 AND patient_id = ANY($2::text[]) AND revoked_at IS NULL LIMIT 1', [
    managerPatientId,
    patientIds,
  ]);
  return r.rows.length > 0;
}

/** The active links of a manager, oldest first. */
export async function managedMembers(q: Queryable, managerPatientId: string): Promise<{ id: string; patientId: string; relationship: FamilyRelation }[]> {
  const rows = (
    await q.query<{ id: string; patient_id: string; relationship: FamilyRelation }>(
      'SELECT id, patient_id, relationship FROM family_link WHERE manager_patient_id = $1 AND revoked_at IS NULL ORDER BY created_at',
      [managerPatientId],
    )
  ).rows;
  return rows.map((r) => ({ id: r.id, patientId: r.patient_id, relationship: r.relationship }));
}
