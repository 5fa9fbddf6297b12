/**
 * Who can read a person's record right now, and why — the consent page's answer to "who has my
 * data?". It mirrors the access rules (src/auth/access.ts): a facility or clinician in a care
 * relationship (unless the person blocked that facility), a facility the person shared with, a
 * family member who manages the record, and an active break-the-glass grant with its expiry.
 *
 * Rules: the derived access tables are read through the consent domain's read-only grant
 * (src/db/domain-sql.ts); names of facilities, clinicians and family members are directory data
 * read through the system repository with that reason. Ids never reach the answer: a name that
 * cannot be found reads "(không rõ tên)".
 */
import type { Organization, Patient, Practitioner } from '@medplum/fhirtypes';
import { ROLE_LABELS, type Role } from '../auth/policy.ts';
import type { Queryable } from '../db/db.ts';
import type { FhirStore } from '../fhir/store.ts';
import { iso } from '../http/json.ts';
import type { AccessHolder } from './contract.ts';

const UNKNOWN = '(không rõ tên)';

/** What the manager is to the person, from what the person is to the manager (family_link.relationship). */
const MANAGER_IS: Record<string, AccessHolder['relation']> = {
  child: 'parent',
  parent: 'child',
  spouse: 'spouse',
  grandparent: 'grandchild',
  ward: 'guardian',
};

function personName(r: Patient | Practitioner | undefined): string | undefined {
  const n = r?.name?.[0];
  if (!n) return undefined;
  return n.text ?? ([n.family, ...(n.given ?? [])].filter(Boolean).join(' ') || undefined);
}

const roleLabel = (role: string) => ROLE_LABELS[role as Role] ?? { vi: role, en: role };

export async function accessHolders(sql: Queryable, store: FhirStore, patientId: string): Promise<AccessHolder[]> {
  const [care, consents, family, glass] = await Promise.all([
    sql.query<{ organization_id: string | null; practitioner_id: string | null; kinds: string[] }>(
      `SELECT organization_id, practitioner_id, array_agg(DISTINCT kind ORDER BY kind) AS kinds
         FROM care_relationship WHERE patient_id = $1 GROUP BY organization_id, practitioner_id`,
      [patientId],
    ),
    sql.query<{ organization_id: string; decision: string }>(
      "SELECT DISTINCT organization_id, decision FROM consent_state WHERE patient_id = $1 AND purpose = 'treatment'",
      [patientId],
    ),
    sql.query<{ manager_patient_id: string; relationship: string }>(
      'SELECT manager_patient_id, relationship FROM family_link WHERE patient_id = $1 AND revoked_at IS NULL ORDER BY created_at',
      [patientId],
    ),
    sql.query<{ account_id: string; display_name: string; reason: string; expires_at: Date }>(
      `SELECT b.account_id, a.display_name, b.reason, b.expires_at FROM break_glass b JOIN account a ON a.id = b.account_id
        WHERE b.patient_id = $1 AND b.expires_at > now() ORDER BY b.expires_at DESC`,
      [patientId],
    ),
  ]);
  const pracIds = [...new Set(care.rows.map((r) => r.practitioner_id).filter((x): x is string => !!x))];
  const glassAccounts = [...new Set(glass.rows.map((r) => r.account_id))];
  // The accounts behind clinicians and emergency grants: their roles and the facility each role is held at.
  const staff = (
    await sql.query<{ account_id: string; practitioner_id: string | null; role: string; organization_id: string }>(
      `SELECT a.id AS account_id, a.practitioner_id, r.role, r.organization_id FROM account a JOIN account_role r ON r.account_id = a.id
        WHERE a.id = ANY($1::text[]) OR (a.practitioner_id IS NOT NULL AND a.practitioner_id = ANY($2::text[]))`,
      [glassAccounts, pracIds],
    )
  ).rows;
  const orgIds = new Set<string>();
  for (const r of care.rows) if (r.organization_id) orgIds.add(r.organization_id);
  for (const r of consents.rows) if (r.organization_id !== '*') orgIds.add(r.organization_id);
  for (const r of staff) if (r.organization_id) orgIds.add(r.organization_id);

  const directory = store.system('consent page: names of who holds access to a record', 'consent');
  const byId = async <T extends Organization | Patient | Practitioner>(type: T['resourceType'], ids: string[]): Promise<Map<string, T>> => {
    if (!ids.length) return new Map();
    const found = await directory.search<T>(type, { _id: ids.join(','), _count: String(ids.length), _elements: 'name' });
    return new Map(found.map((r) => [r.id!, r]));
  };
  const [orgs, pracs, managers] = await Promise.all([
    byId<Organization>('Organization', [...orgIds]),
    byId<Practitioner>('Practitioner', pracIds),
    byId<Patient>('Patient', [...new Set(family.rows.map((r) => r.manager_patient_id))]),
  ]);
  const orgName = (id: string | null | undefined) => (id ? (orgs.get(id)?.name ?? UNKNOWN) : undefined);

  const denied = new Set(consents.rows.filter((c) => c.decision === 'deny').map((c) => c.organization_id));
  const blocked = (org: string | null | undefined) => denied.has('*') || (!!org && denied.has(org));
  const out: AccessHolder[] = [];

  for (const r of care.rows.filter((x) => x.organization_id && !x.practitioner_id)) {
    out.push({ basis: 'care', name: orgName(r.organization_id)!, kinds: r.kinds, ...(blocked(r.organization_id) ? { blocked: true } : {}) });
  }
  for (const r of care.rows.filter((x) => x.practitioner_id)) {
    const roles = staff.filter((s) => s.practitioner_id === r.practitioner_id);
    const facility = roles.find((s) => s.organization_id)?.organization_id ?? r.organization_id;
    out.push({
      basis: 'care',
      name: personName(pracs.get(r.practitioner_id!)) ?? UNKNOWN,
      ...(facility ? { facility: orgName(facility) } : {}),
      ...(roles.length ? { roles: [...new Set(roles.map((s) => s.role))].map(roleLabel) } : {}),
      kinds: r.kinds,
      ...(roles.some((s) => blocked(s.organization_id)) || blocked(facility) ? { blocked: true } : {}),
    });
  }
  for (const c of consents.rows.filter((x) => x.decision === 'permit')) {
    if (c.organization_id === '*') out.push({ basis: 'consent', name: 'Mọi cơ sở y tế', everyFacility: true });
    else out.push({ basis: 'consent', name: orgName(c.organization_id)!, ...(blocked(c.organization_id) ? { blocked: true } : {}) });
  }
  for (const f of family.rows) {
    out.push({ basis: 'family', name: personName(managers.get(f.manager_patient_id)) ?? UNKNOWN, relation: MANAGER_IS[f.relationship] });
  }
  for (const g of glass.rows) {
    const roles = staff.filter((s) => s.account_id === g.account_id);
    const facility = roles.find((s) => s.organization_id)?.organization_id;
    out.push({
      basis: 'break-glass',
      name: g.display_name,
      ...(facility ? { facility: orgName(facility) } : {}),
      ...(roles.length ? { roles: [...new Set(roles.map((s) => s.role))].map(roleLabel) } : {}),
      reason: g.reason,
      expiresAt: iso(g.expires_at),
    });
  }
  return out;
}
