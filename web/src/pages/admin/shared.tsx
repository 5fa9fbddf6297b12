/** Shared bits of the administration pages: which roles each administrator may grant, a role with its facility's name. */
import type { AdminRole } from '../../../../src/auth/admin-contract.ts';
import { ROLE_LABELS, type Role } from '../../../../src/auth/policy.ts';
import { lang } from '../../i18n.ts';

const CLINICAL: Role[] = ['commune_clinician', 'specialist', 'coordinator'];
const ALL_STAFF: Role[] = [...CLINICAL, 'facility_admin', 'analyst', 'dpo', 'system_admin'];

/** A facility administrator grants clinical roles at their facility; a system administrator any staff role (the server checks again). */
export const ROLE_CHOICES: Record<'facility_admin' | 'system_admin', { role: Role; label: { vi: string; en: string } }[]> = {
  facility_admin: CLINICAL.map((role) => ({ role, label: ROLE_LABELS[role] })),
  system_admin: ALL_STAFF.map((role) => ({ role, label: ROLE_LABELS[role] })),
};

export function RoleLabel({ role }: { role: AdminRole }) {
  return (
    <span>
      {role.label[lang.value]}
      {role.organizationName ? ` — ${role.organizationName}` : ''}
    </span>
  );
}
