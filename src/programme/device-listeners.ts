/**
 * The device-programme indicators' source tables (migration 123), kept in step with the record
 * inside every write's transaction:
 *
 *   Patient → programme_patient_facility (which facility manages the person);
 *   Device bound to a patient (a home device) → programme_monitoring_device (spans of use: the day
 *       it was bound and active, the day it stopped — inactive, unbound, lent to another, deleted).
 *
 * Rules: called from the programme's write listener with its DomainSql only; no patient identifier
 * is stored — a person is a one-way key (patientKey), enough to count people once. A device
 * marked entered-in-error leaves no trace (it never monitored anybody).
 */
import { createHash } from 'node:crypto';
import type { Device, Patient } from '@medplum/fhirtypes';
import type { DomainSql } from '../db/domain-sql.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

/** The same key migration 123 computes: sha-256 of 'cauyte-programme:' + Patient id, 32 hex digits. */
export const patientKey = (patientId: string) => createHash('sha256').update(`cauyte-programme:${patientId}`).digest('hex').slice(0, 32);

/** fresh: a resource created just now (POST), which can have no row yet. */
export async function onPatient(sql: DomainSql, id: string, p: Patient | undefined, fresh = false): Promise<void> {
  const ref = p?.managingOrganization?.reference;
  const org = ref?.startsWith('Organization/') ? ref.slice(13) : undefined;
  if (!org && fresh) return;
  if (!org) return void (await sql.query('DELETE FROM programme_patient_facility WHERE patient_key = $1', [patientKey(id)]));
  await sql.query(
    'INSERT INTO programme_patient_facility (patient_key, org_id) VALUES ($1, $2) ON CONFLICT (patient_key) DO UPDATE SET org_id = EXCLUDED.org_id',
    [patientKey(id), org],
  );
}

export async function onDevice(sql: DomainSql, id: string, d: Device | undefined, at: Date): Promise<void> {
  const day = vietnamDay(at);
  // Entered in error: it never monitored anybody.
  if (d?.status === 'entered-in-error') return void (await sql.query('DELETE FROM programme_monitoring_device WHERE device_id = $1', [id]));
  const ref = d?.patient?.reference;
  const patient = ref?.startsWith('Patient/') ? ref.slice(8) : undefined;
  const key = d && patient && (d.status ?? 'active') === 'active' ? patientKey(patient) : undefined;
  const open = (await sql.query<{ patient_key: string }>('SELECT patient_key FROM programme_monitoring_device WHERE device_id = $1 AND end_day IS NULL', [id]))
    .rows[0];
  if (open && open.patient_key === key) return; // the same person's device, still in use
  // Not in use any more (inactive, unbound, deleted) or lent to someone else: the open span ends today.
  if (open) await sql.query('UPDATE programme_monitoring_device SET end_day = $2 WHERE device_id = $1 AND end_day IS NULL', [id, day]);
  if (!key) return;
  // A span starts today (the same person's span that started and ended today is taken up again).
  await sql.query(
    `INSERT INTO programme_monitoring_device (device_id, start_day, patient_key, end_day) VALUES ($1, $2, $3, NULL)
     ON CONFLICT (device_id, start_day, patient_key) DO UPDATE SET end_day = NULL`,
    [id, day, key],
  );
}
