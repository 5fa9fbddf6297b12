/**
 * A facility's device fleet (the administrators' screen): the station's shared devices and the home
 * devices lent to its registered patients, each with the patient's name where the viewer may see
 * it, the last message received, quarantined messages in the last 7 days, and the provisioning
 * state (waiting for a first reading, working, disabled).
 *
 * Rules: which devices belong to the facility is platform work (`store.system` with its reason,
 * audited): a facility administrator has no clinical reach, yet manages the hardware. Names of
 * patients go through the caller's own repository (`reaches`): a patient outside the caller's
 * reach stays unnamed. Message times and counts come from the devices domain's own tables.
 */
import type { Device, Organization, Patient } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { iso } from '../http/json.ts';
import type { FleetDevice, FleetView } from './contract.ts';

const idOf = (ref: string | undefined, type: string) => (ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : undefined);

function personName(p: Patient | undefined): string | undefined {
  const n = p?.name?.[0];
  return n ? (n.text ?? ([n.family, ...(n.given ?? [])].filter(Boolean).join(' ') || undefined)) : undefined;
}

/** The devices of the caller's facility: shared ones it owns and those of patients it manages. */
export async function facilityDevices(store: FhirStore, organizationId: string): Promise<{ devices: Device[]; patients: Map<string, Patient> }> {
  const platform = store.system("device fleet: the facility's devices for its administrators", 'devices');
  const shared = await platform.search<Device>('Device', { organization: `Organization/${organizationId}`, _count: '1000' });
  // Every registered patient of the facility, page by page (a page holds at most 1000).
  const patients: Patient[] = [];
  let params = new URLSearchParams({ organization: `Organization/${organizationId}`, _count: '1000', _elements: 'name' });
  for (let page = 0; page < 50; page++) {
    const b = await platform.searchBundle('Patient', params);
    for (const e of b.entry ?? []) if (e.search?.mode !== 'include') patients.push(e.resource as Patient);
    const next = b.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    params = new URL(next).searchParams;
  }
  const home: Device[] = [];
  for (let i = 0; i < patients.length; i += 100) {
    const ids = patients.slice(i, i + 100).map((p) => `Patient/${p.id}`);
    if (ids.length) home.push(...(await platform.search<Device>('Device', { patient: ids.join(','), _count: '1000' })));
  }
  const seen = new Set<string>();
  const devices = [...shared, ...home].filter((d) => !seen.has(d.id!) && seen.add(d.id!));
  return { devices, patients: new Map(patients.map((p) => [p.id!, p])) };
}

export async function deviceFleet(store: FhirStore, ctx: AccessContext): Promise<FleetView> {
  const org = ctx.actor.organizationId;
  if (!org) return { facility: '', devices: [] };
  const { devices, patients } = await facilityDevices(store, org);
  const repo = store.as(ctx, 'devices.manage');
  const facility = (await store.system('device fleet: facility name', 'devices').tryRead<Organization>('Organization', org))?.name ?? '';
  const ids = devices.map((d) => d.id!);
  const [messages, credentials, quarantined] = await Promise.all([
    repo.sql.query<{ device_id: string; last: Date; n: string }>(
      'SELECT device_id, max(received_at) AS last, count(*) AS n FROM device_message WHERE device_id = ANY($1::text[]) GROUP BY device_id',
      [ids],
    ),
    repo.sql.query<{ device_id: string; revoked_at: Date | null }>('SELECT device_id, revoked_at FROM device_credential WHERE device_id = ANY($1::text[])', [
      ids,
    ]),
    repo.sql.query<{ device_id: string; n: string }>(
      "SELECT device_id, count(*) AS n FROM device_quarantine WHERE device_id = ANY($1::text[]) AND received_at > now() - interval '7 days' GROUP BY device_id",
      [ids],
    ),
  ]);
  const last = new Map(messages.rows.map((r) => [r.device_id, r]));
  const cred = new Map(credentials.rows.map((r) => [r.device_id, r]));
  const bad = new Map(quarantined.rows.map((r) => [r.device_id, Number(r.n)]));
  const out: FleetDevice[] = [];
  for (const d of devices) {
    const patientId = idOf(d.patient?.reference, 'Patient');
    const named = patientId ? await repo.reaches(patientId) : false;
    const c = cred.get(d.id!);
    const m = last.get(d.id!);
    const state: FleetDevice['state'] = !c ? 'no-credential' : c.revoked_at || d.status === 'inactive' ? 'disabled' : m ? 'working' : 'waiting';
    out.push({
      id: d.id!,
      name: d.deviceName?.[0]?.name ?? d.type?.text ?? '',
      type: d.type?.text ?? '',
      serial: d.identifier?.[0]?.value ?? '',
      shared: !patientId,
      ...(patientId ? { patient: named ? (personName(patients.get(patientId)) ?? '') : undefined, patientHidden: !named } : {}),
      state,
      ...(m ? { lastMessageAt: iso(m.last), messages: Number(m.n) } : { messages: 0 }),
      quarantined7d: bad.get(d.id!) ?? 0,
    });
  }
  await repo.record({ action: 'device.fleet', detail: { devices: out.length } });
  out.sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name, 'vi') : a.state.localeCompare(b.state)));
  return { facility, devices: out };
}

/** Whether a device belongs to the caller's facility (for disabling from the fleet screen). */
export async function inFacilityFleet(store: FhirStore, organizationId: string, deviceId: string): Promise<Device | undefined> {
  const platform = store.system("device fleet: is this device the facility's", 'devices');
  const d = await platform.tryRead<Device>('Device', deviceId);
  if (!d) return undefined;
  if (d.owner?.reference === `Organization/${organizationId}`) return d;
  const patientId = idOf(d.patient?.reference, 'Patient');
  if (!patientId) return undefined;
  const p = await platform.tryRead<Patient>('Patient', patientId);
  return p?.managingOrganization?.reference === `Organization/${organizationId}` ? d : undefined;
}
