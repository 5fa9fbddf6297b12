/**
 * A facility's bridge point (điểm cầu): the Location that stands for its telemedicine room in
 * meetings, made when first needed. Shared by case-conference meetings and training sessions.
 */
import type { Location, Organization } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.ts';
import { badRequest } from '../fhir/outcome.ts';

/** Location type "virtual" (a bridge point, not a building). */
export const VIRTUAL_LOCATION = { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'VR', display: 'virtual' };

/** The facility's bridge-point Location id, created on first use (read and written through the caller's repository). */
export async function bridgePoint(tx: Repository, organizationId: string): Promise<string> {
  const org = await tx.tryRead<Organization>('Organization', organizationId);
  if (!org) throw badRequest(`Không có cơ sở ${organizationId} (unknown facility)`);
  const found = await tx.searchOne<Location>('Location', {
    organization: `Organization/${organizationId}`,
    type: `${VIRTUAL_LOCATION.system}|${VIRTUAL_LOCATION.code}`,
  });
  if (found) return found.id!;
  const loc = await tx.create<Location>({
    resourceType: 'Location',
    status: 'active',
    name: `Điểm cầu ${org.name ?? organizationId}`,
    mode: 'instance',
    type: [{ coding: [VIRTUAL_LOCATION] }],
    managingOrganization: { reference: `Organization/${organizationId}` },
  });
  return loc.id!;
}
