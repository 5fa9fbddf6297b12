/**
 * Whose directory data a write touches. Directory resources (facilities, bridge points, staff roles,
 * services, schedules, slots…) are not about one patient, so the patient-reach rules do not limit
 * them; a role that may write them at one facility (coordinator, facility administrator) writes its
 * own facility's only. Without this, one facility's administrator could rename another facility,
 * drop it from the national register, move its bridge points (and so its meetings) to their own, or
 * place another facility's doctor "at" their own facility and bind an account to them.
 *
 * Rules (policy as data, FACILITY_OF): each type names the facility it belongs to through one field
 * (an Organization: itself, or the facility it is part of); a Schedule through its actors, a Slot
 * through its Schedule, a Practitioner through their roles (only someone who works at the facility
 * and nowhere else). Every version a write touches — the one it replaces and the one it writes —
 * must belong to the writer's facility, so nothing is moved in or out. Shared national content of the
 * directory kind (terminology, forms, the medicine catalogue) is written only by roles whose policy
 * says `directoryWrites: 'all'`. Domain routes (`p.domain`) and the system decide for themselves.
 */
import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { AccessDenied } from './access.ts';
import type { Principal } from './principal.ts';
import { DIRECTORY_TYPES, POLICY } from './policy.ts';

/** The facility a resource names (by reference), or the references to follow to find it. */
type Belongs = { orgs: (string | undefined)[] } | { via: (string | undefined)[] } | { practitioner: string };

/** The id of the organization a reference names (undefined for anything else). */
export const org = (r?: Reference) => (r?.reference?.startsWith('Organization/') ? r.reference.slice('Organization/'.length) : undefined);

/** How each facility-owned directory type says whose it is. Types not listed are shared national content. */
const FACILITY_OF: Record<string, (r: Record<string, unknown> & Resource) => Belongs> = {
  Organization: (r) => ({ orgs: [r.id, org(r.partOf as Reference)] }),
  Location: (r) => ({ orgs: [org(r.managingOrganization as Reference)] }),
  PractitionerRole: (r) => ({ orgs: [org(r.organization as Reference)] }),
  HealthcareService: (r) => ({ orgs: [org(r.providedBy as Reference)] }),
  Endpoint: (r) => ({ orgs: [org(r.managingOrganization as Reference)] }),
  OrganizationAffiliation: (r) => ({ orgs: [org(r.organization as Reference)] }),
  Schedule: (r) => ({ via: ((r.actor as Reference[] | undefined) ?? []).map((a) => a.reference) }),
  Slot: (r) => ({ via: [(r.schedule as Reference | undefined)?.reference] }),
  Practitioner: (r) => ({ practitioner: r.id ?? '' }),
};

async function current(q: Queryable, reference: string): Promise<Resource | undefined> {
  const [type, id] = reference.split('/');
  if (!type || !id) return undefined;
  const r = await q.query<{ content: Resource | string }>(
    `SELECT v.content FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
     WHERE r.resource_type = $1 AND r.id = $2 AND NOT r.deleted`,
    [type, id],
  );
  const c = r.rows[0]?.content;
  return typeof c === 'string' ? (JSON.parse(c) as Resource) : c;
}

/** The organizations a practitioner holds roles at. */
async function rolesOf(q: Queryable, practitionerId: string): Promise<string[]> {
  const r = await q.query<{ org: string | null }>(
    `SELECT v.content->'organization'->>'reference' AS org FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
     WHERE r.resource_type = 'PractitionerRole' AND NOT r.deleted AND v.content->'practitioner'->>'reference' = $1`,
    [`Practitioner/${practitionerId}`],
  );
  return r.rows.map((x) => (x.org ?? '').replace(/^Organization\//, ''));
}

/**
 * Where a practitioner works, from the facilities of their roles, seen from `facility`: not there,
 * only there, or there and elsewhere. A facility speaks for a practitioner only when they work
 * there and nowhere else (its directory writes, and binding an account to them: account-routes.ts).
 */
export function workplaceOf(roleFacilities: string[], facility: string): 'not-here' | 'only-here' | 'also-elsewhere' {
  if (!roleFacilities.includes(facility)) return 'not-here';
  return roleFacilities.every((o) => o === facility) ? 'only-here' : 'also-elsewhere';
}

/** Whether `r` belongs to facility `facility` (following at most two references: Slot → Schedule → actor). */
async function belongsTo(q: Queryable, r: Resource, facility: string, depth = 0): Promise<boolean> {
  const rule = FACILITY_OF[r.resourceType];
  if (!rule) return false;
  const b = rule(r as Record<string, unknown> & Resource);
  if ('orgs' in b) return b.orgs.includes(facility);
  if ('practitioner' in b) {
    return workplaceOf(await rolesOf(q, b.practitioner), facility) === 'only-here';
  }
  if (depth >= 2 || b.via.length === 0) return false;
  for (const ref of b.via) {
    const target = ref ? await current(q, ref) : undefined;
    if (!target || !(await belongsTo(q, target, facility, depth + 1))) return false;
  }
  return true;
}

/**
 * Throws unless the principal may write this directory resource's versions `before` (replaced or
 * deleted) and `after` (written). A new Practitioner (no roles yet) may be created by a facility.
 */
export async function assertDirectoryWrite(q: Queryable, p: Principal, before: Resource | undefined, after: Resource | undefined): Promise<void> {
  if (p.kind !== 'actor' || p.domain) return;
  const type = (after ?? before)?.resourceType;
  if (!type || !DIRECTORY_TYPES.has(type)) return;
  const actor = p.ctx.actor;
  if (actor.role && POLICY[actor.role].directoryWrites === 'all') return;
  if (!FACILITY_OF[type])
    throw new AccessDenied(
      `${type} là danh mục dùng chung toàn quốc: chỉ quản trị hệ thống thay đổi (${type} is shared national content; a facility does not change it)`,
    );
  const facility = actor.organizationId;
  if (!facility) throw new AccessDenied('Tài khoản chưa gắn với cơ sở (your account has no facility)');
  for (const version of [before, after]) {
    if (!version) continue;
    if (version === after && !before && type === 'Practitioner') continue; // a new person: their role here comes next
    if (!(await belongsTo(q, version, facility)))
      throw new AccessDenied(
        `Chỉ được thay đổi danh mục của cơ sở mình (${type}${version.id ? `/${version.id}` : ''} does not belong to your facility, or the change would move it out of it)`,
      );
  }
}
