/**
 * What the ingest needs to know about a patient: that the record exists, the facility managing
 * it (who is told about alerts), the alert limits from the patient's active Goals — and, for a
 * shared station device, whether the patient is registered at that station.
 *
 * Rules: every lookup is a FHIR read or search through the batch's system repository (audited in
 * the batch's one row); nothing reads care_relationship or the index tables directly. "Registered
 * at a station" means Patient.managingOrganization or generalPractitioner is the station, or an
 * active EpisodeOfCare or CareTeam of the station holds the patient. Answers are cached briefly
 * (a device sends often); a positive registration for a minute, a negative one never, so a
 * patient registered a moment ago is accepted at once. forget() drops a patient's entry (new
 * targets, a retried batch).
 */
import type { Goal, Patient } from '@medplum/fhirtypes';
import type { Repository } from '../../fhir/repository.ts';
import { limitsFromGoals, type Limits } from '../alerts.ts';

export interface PatientContext {
  exists: boolean;
  limits: Limits;
  organizationId?: string;
}

const CACHE_MS = 60_000;
const MAX_ENTRIES = 100_000;

export class PatientDirectory {
  private readonly contexts = new Map<string, PatientContext & { at: number }>();
  /** patient → station → when the registration was last seen. */
  private readonly registrations = new Map<string, Map<string, number>>();

  async context(repo: Repository, patientId: string): Promise<PatientContext> {
    const c = this.contexts.get(patientId);
    if (c && Date.now() - c.at < CACHE_MS) return c;
    const patient = await repo.tryRead<Patient>('Patient', patientId);
    const goals = patient ? await repo.search<Goal>('Goal', { patient: `Patient/${patientId}`, 'lifecycle-status': 'active', _count: '50' }) : [];
    const entry = {
      exists: !!patient,
      limits: limitsFromGoals(goals),
      organizationId: patient?.managingOrganization?.reference?.split('/')[1],
      at: Date.now(),
    };
    if (this.contexts.size > MAX_ENTRIES) this.contexts.clear();
    this.contexts.set(patientId, entry);
    return entry;
  }

  async registeredAt(repo: Repository, patientId: string, stationId: string): Promise<boolean> {
    const at = this.registrations.get(patientId)?.get(stationId);
    if (at && Date.now() - at < CACHE_MS) return true;
    const org = `Organization/${stationId}`;
    const found =
      !!(await repo.searchOne('Patient', { _id: patientId, organization: org })) ||
      !!(await repo.searchOne('Patient', { _id: patientId, 'general-practitioner': org })) ||
      !!(await repo.searchOne('EpisodeOfCare', { patient: `Patient/${patientId}`, organization: org, status: 'active' })) ||
      !!(await repo.searchOne('CareTeam', { patient: `Patient/${patientId}`, participant: org, status: 'active' }));
    if (found) {
      if (this.registrations.size > MAX_ENTRIES) this.registrations.clear();
      if (!this.registrations.has(patientId)) this.registrations.set(patientId, new Map());
      this.registrations.get(patientId)!.set(stationId, Date.now());
    } else this.registrations.get(patientId)?.delete(stationId);
    return found;
  }

  forget(patientId: string): void {
    this.contexts.delete(patientId);
    this.registrations.delete(patientId);
  }
}
