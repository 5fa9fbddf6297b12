/**
 * Family links (người thân quản lý hồ sơ): staff who saw the proof (birth certificate, household
 * book, guardianship decision) record that a citizen manages a family member's record; the citizen
 * then reads the member's record, books for them and exercises their data rights; either side may
 * end the link.
 *
 * Rules:
 *   - a link is a RelatedPerson on the member's record (the manager, as seen from the member) plus
 *     a `family_link` row; both are written here only, in one unit of work of the family domain
 *     (`family.manage` for staff, `family.own` for the manager giving it up, or the platform's demo);
 *   - staff must reach both records (the repository checks it); the manager ends only their own
 *     link; staff end a link only on a member whose record they reach;
 *   - every change is audited with its action (`visit.family-link`, `visit.family-unlink`, the names
 *     the audit trail has always used).
 * Other domains ask `manages` / `managedIds` (or links.ts) with their own DomainSql (read grant on family_link).
 */
import { randomUUID } from 'node:crypto';
import type { Patient, RelatedPerson } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import { badRequest, conflict, notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { CCCD_SYSTEM } from '../terminology/identifiers.ts';
import type { FamilyLinkCreated, FamilyMember, FamilyRelation } from './contract.ts';
import { familyLink, managedMembers } from './links.ts';

/** The relation of the managed member to the citizen who manages their record (v3 RoleCode of the manager). */
export const FAMILY_RELATIONS: Record<FamilyRelation, { code: string; display: string; member: string }> = {
  child: { code: 'PRN', display: 'Cha/mẹ', member: 'Con' },
  parent: { code: 'CHILD', display: 'Con', member: 'Cha/mẹ' },
  spouse: { code: 'SPS', display: 'Vợ/chồng', member: 'Vợ/chồng' },
  grandparent: { code: 'GRNDCHILD', display: 'Cháu', member: 'Ông/bà' },
  ward: { code: 'GUARD', display: 'Người giám hộ', member: 'Người được giám hộ' },
};
export const PROOF_EXT = 'https://fhir.cauyte.vn/StructureDefinition/relation-proof';
/** On the link's RelatedPerson: the manager's own Patient record. */
export const MANAGER_EXT = 'https://fhir.cauyte.vn/StructureDefinition/managed-by-patient';

export interface LinkInput {
  managerPatientId: string;
  patientId: string;
  relationship: FamilyRelation;
  proof: string;
}

interface LinkRow {
  id: string;
  manager_patient_id: string;
  patient_id: string;
  related_person_id: string;
  relationship: FamilyRelation;
}

const nameOf = (p?: Patient) => p?.name?.[0]?.text ?? [p?.name?.[0]?.family, ...(p?.name?.[0]?.given ?? [])].filter(Boolean).join(' ');

/**
 * Writes a link in the repository's unit of work: the RelatedPerson and the `family_link` row,
 * audited as `visit.family-link`. `repo` is a family-domain repository; it must reach both records.
 */
export async function recordFamilyLink(repo: Repository, input: LinkInput, verifiedBy: string, recordedBy: string): Promise<FamilyLinkCreated> {
  if (input.managerPatientId === input.patientId) throw badRequest('Người quản lý và người thân phải khác nhau (manager and member must differ)');
  const rel = FAMILY_RELATIONS[input.relationship];
  return repo.transaction(async (tx) => {
    const manager = await tx.read<Patient>('Patient', input.managerPatientId);
    await tx.read<Patient>('Patient', input.patientId);
    if (await familyLink(tx.sql, input.managerPatientId, input.patientId)) throw conflict('Quan hệ này đã được ghi nhận (already recorded)');
    const rp = await tx.create<RelatedPerson>({
      resourceType: 'RelatedPerson',
      active: true,
      patient: { reference: `Patient/${input.patientId}` },
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: rel.code, display: rel.display }], text: rel.display }],
      name: manager.name,
      telecom: manager.telecom,
      identifier: manager.identifier?.filter((i) => i.system === CCCD_SYSTEM),
      extension: [
        { url: MANAGER_EXT, valueReference: { reference: `Patient/${manager.id}`, display: nameOf(manager) } },
        { url: PROOF_EXT, valueString: `${input.proof} — xác minh bởi ${verifiedBy}` },
      ],
    });
    const id = randomUUID();
    await tx.sql.query(
      'INSERT INTO family_link (id, manager_patient_id, patient_id, related_person_id, relationship, proof, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [id, input.managerPatientId, input.patientId, rp.id, input.relationship, input.proof, recordedBy],
    );
    await tx.record({
      action: 'visit.family-link',
      resourceType: 'RelatedPerson',
      resourceId: rp.id,
      patientIds: [input.patientId],
      detail: { manager: input.managerPatientId, relationship: input.relationship },
    });
    return { id, relatedPersonId: rp.id! };
  });
}

export class FamilyService {
  constructor(private readonly store: FhirStore) {}

  /** Does this citizen manage this patient's record (an active link)? For other domains' checks. */
  async manages(q: Queryable, managerPatientId: string, patientId: string): Promise<boolean> {
    return managerPatientId !== patientId && (await familyLink(q, managerPatientId, patientId)) !== undefined;
  }

  /** The patients this citizen manages (active links), for other domains. */
  async managedIds(q: Queryable, managerPatientId: string): Promise<string[]> {
    return (await managedMembers(q, managerPatientId)).map((m) => m.patientId);
  }

  /** The citizen and the members whose records they manage and can reach now (an app's token reaches its own patient only). */
  async members(ctx: AccessContext): Promise<FamilyMember[]> {
    const self = ctx.actor.patientId;
    if (!self) return [];
    return this.store.as(ctx, 'family.own').transaction(async (tx) => {
      const me = await tx.tryRead<Patient>('Patient', self);
      const out: FamilyMember[] = [{ patientId: self, name: nameOf(me), birthDate: me?.birthDate, self: true }];
      for (const l of await managedMembers(tx.sql, self)) {
        if (!(await tx.reaches(l.patientId))) continue;
        const p = await tx.tryRead<Patient>('Patient', l.patientId);
        if (p)
          out.push({
            patientId: l.patientId,
            name: nameOf(p),
            birthDate: p.birthDate,
            relation: FAMILY_RELATIONS[l.relationship]?.member,
            self: false,
            linkId: l.id,
          });
      }
      await tx.record({ action: 'read', resourceType: 'Patient', detail: { view: 'family-members', n: out.length } });
      return out;
    });
  }

  /** The Patient with this CCCD number among the records the staff member reaches (404 otherwise). */
  async patientByCccd(ctx: AccessContext, cccd: string): Promise<string> {
    const found = await this.store.as(ctx, 'family.manage').searchOne<Patient>('Patient', { identifier: `${CCCD_SYSTEM}|${cccd}` });
    if (!found) throw notFound(`Không có người dân với số CCCD ${cccd} (no patient with this citizen ID)`);
    return found.id!;
  }

  /** Staff record a link after seeing the proof. */
  async link(ctx: AccessContext, input: LinkInput): Promise<FamilyLinkCreated> {
    const who = ctx.actor.displayName ?? ctx.actor.username ?? 'cán bộ';
    return recordFamilyLink(this.store.as(ctx, 'family.manage'), input, who, ctx.actor.accountId ?? who);
  }

  /** The manager gives the role up. */
  async giveUp(ctx: AccessContext, linkId: string): Promise<void> {
    await this.store.as(ctx, 'family.own').transaction(async (tx) => {
      const l = await this.activeLink(tx, linkId);
      if (!ctx.actor.patientId || l.manager_patient_id !== ctx.actor.patientId)
        throw new AccessDenied('Không phải quan hệ của bạn (not your link)', 403, false, l.patient_id);
      await this.end(tx, l);
    });
  }

  /** Staff end a link on a member whose record they reach. */
  async revoke(ctx: AccessContext, linkId: string): Promise<void> {
    await this.store.as(ctx, 'family.manage').transaction(async (tx) => {
      const l = await this.activeLink(tx, linkId);
      await tx.read<Patient>('Patient', l.patient_id);
      await this.end(tx, l);
    });
  }

  private async activeLink(tx: Repository, linkId: string): Promise<LinkRow> {
    const l = (
      await tx.sql.query<LinkRow>(
        'SELECT id, manager_patient_id, patient_id, related_person_id, relationship FROM family_link WHERE id = $1 AND revoked_at IS NULL FOR UPDATE',
        [linkId],
      )
    ).rows[0];
    if (!l) throw notFound('Không có quan hệ này (no such link)');
    return l;
  }

  /** The RelatedPerson goes inactive (while the manager still reaches the record), then the link ends. */
  private async end(tx: Repository, l: LinkRow): Promise<void> {
    const rp = await tx.tryRead<RelatedPerson>('RelatedPerson', l.related_person_id);
    if (rp?.active !== false && rp) await tx.update<RelatedPerson>({ ...rp, active: false });
    await tx.sql.query('UPDATE family_link SET revoked_at = now() WHERE id = $1', [l.id]);
    await tx.record({
      action: 'visit.family-unlink',
      resourceType: 'RelatedPerson',
      resourceId: l.related_person_id,
      patientIds: [l.patient_id],
      detail: { manager: l.manager_patient_id },
    });
  }
}
