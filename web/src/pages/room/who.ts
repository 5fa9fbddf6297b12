/** How a participant is described in the room: where they join from and their role, in the page's language (never a role code). */
import { ROLE_LABELS, type Role } from '../../../../src/auth/policy.ts';
import { lang, t } from '../../i18n.ts';
import type { Member } from '../../video/call.ts';

/** "Trạm Y tế xã Bát Xát", or "Tại nhà" for a citizen at home. */
export function siteOf(m: Member): string {
  return m.atHome ? t().video.atHome : m.site;
}

/** The role's label ("Bác sĩ tuyến xã"); empty for a code this page does not know. */
export function roleOf(m: Member): string {
  return ROLE_LABELS[m.role as Role]?.[lang.value] ?? '';
}
