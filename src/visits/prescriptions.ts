/**
 * Finding an e-prescription by its code: the printable document for the people who may read the
 * patient's record, and the public check a pharmacy makes after scanning the QR code (that it
 * exists, is valid, when it was issued, how many items — never for whom).
 *
 * Rules: the document is read through the actor's `visits.attend` repository (patient reach and
 * audit apply; recorded as an `export` of the prescription); someone who cannot reach the patient
 * is refused (403, audited), not told "not found". The public check is the platform's own read (a
 * system repository, audited with its reason), and answers only the fields above.
 */
import type { Composition, Encounter, MedicationRequest, Organization, Patient, Practitioner } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { narrativeText } from '../fhir/narrative.ts';
import { notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../terminology/identifiers.ts';
import { searchAll } from './all-pages.ts';
import { INSTRUCTIONS_SECTION } from './completion.ts';
import type { PrescriptionCheck } from './contract.ts';
import { idOf, identifierOf, personName, PRESCRIPTION_SYSTEM } from './model.ts';
import type { PrescriptionDoc } from './prescription.ts';
import { itemNumber } from './visit.ts';

const noSuch = (code: string) => notFound(`Không có đơn thuốc ${code} (no such prescription)`);

/** The items of a prescription, in order, as the repository sees them (none when it sees none). */
async function prescriptionItems(repo: Repository, code: string): Promise<MedicationRequest[]> {
  const first = await repo.searchOne<MedicationRequest>('MedicationRequest', { identifier: `${PRESCRIPTION_SYSTEM}|${code}/1` });
  if (!first?.encounter?.reference) return [];
  const all = await searchAll<MedicationRequest>(repo, 'MedicationRequest', { encounter: first.encounter.reference }, 500);
  return all.filter((m) => m.groupIdentifier?.value === code).sort((a, b) => itemNumber(a) - itemNumber(b));
}

export class Prescriptions {
  constructor(
    private readonly store: FhirStore,
    /** Absolute base of the QR code's link. */
    private readonly baseUrl: string,
  ) {}

  /** What a pharmacy's check learns. */
  async check(code: string): Promise<PrescriptionCheck> {
    const meds = await this.store.system('prescription check (QR code)', 'visits').transaction((tx) => prescriptionItems(tx, code));
    if (!meds.length) throw noSuch(code);
    return {
      code,
      valid: meds.every((m) => m.status === 'active' || m.status === 'completed'),
      issuedAt: meds[0].authoredOn,
      items: meds.length,
      system: PRESCRIPTION_SYSTEM,
    };
  }

  /** Everything the printable prescription shows, read with the caller's access checked. */
  async document(ctx: AccessContext, code: string): Promise<PrescriptionDoc> {
    const repo = this.store.as(ctx, 'visits.attend');
    const doc = await repo.transaction(async (tx) => {
      const meds = await prescriptionItems(tx, code);
      return meds[0] ? this.describe(tx, code, meds) : undefined;
    });
    if (doc) return doc;
    // Out of the caller's reach, or not there at all: the first is refused by reading it (403, audited).
    const hidden = await this.store
      .system('prescription lookup', 'visits')
      .searchOne<MedicationRequest>('MedicationRequest', { identifier: `${PRESCRIPTION_SYSTEM}|${code}/1`, _elements: 'id' });
    if (hidden) await repo.read('MedicationRequest', hidden.id!);
    throw noSuch(code);
  }

  private async describe(tx: Repository, code: string, meds: MedicationRequest[]): Promise<PrescriptionDoc> {
    const patientId = idOf(meds[0].subject, 'Patient')!;
    const patient = await tx.read<Patient>('Patient', patientId);
    const encounter = await tx.read<Encounter>('Encounter', idOf(meds[0].encounter, 'Encounter')!);
    const org = await tx.read<Organization>('Organization', idOf(encounter.serviceProvider, 'Organization')!);
    const practitionerId = idOf(meds[0].requester, 'Practitioner');
    const prac = practitionerId ? await tx.tryRead<Practitioner>('Practitioner', practitionerId) : undefined;
    const note = await tx.searchOne<Composition>('Composition', { encounter: `Encounter/${encounter.id}` });
    await tx.record({ action: 'export', resourceType: 'MedicationRequest', resourceId: meds[0].id, patientIds: [patientId], detail: { prescription: code } });
    const address = (a?: { text?: string; line?: string[]; city?: string }) => a?.text ?? [...(a?.line ?? []), a?.city].filter(Boolean).join(', ');
    const dx = meds[0].reasonCode?.[0]?.coding?.[0];
    const lines = narrativeText(note?.section?.find((s) => s.title === INSTRUCTIONS_SECTION)?.text?.div ?? '').split('\n');
    return {
      code,
      issuedAt: meds[0].authoredOn!,
      facility: { name: org.name ?? '', address: address(org.address?.[0]), phone: org.telecom?.find((t) => t.system === 'phone')?.value },
      prescriber: { name: personName(prac) || meds[0].requester?.display || '', qualification: prac?.qualification?.[0]?.code?.text },
      patient: {
        name: personName(patient),
        birthDate: patient.birthDate,
        gender: patient.gender,
        address: address(patient.address?.[0]),
        bhytCard: identifierOf(patient, BHYT_SYSTEM),
        cccd: identifierOf(patient, CCCD_SYSTEM),
      },
      diagnosis: dx ? `${dx.code}${dx.display ? ` — ${dx.display}` : ''}` : '',
      items: meds.map((m) => ({
        name: m.medicationCodeableConcept?.text ?? '',
        drugCode: m.medicationCodeableConcept?.coding?.[0]?.code,
        quantity: m.dispenseRequest?.quantity?.value ?? 0,
        unit: m.dispenseRequest?.quantity?.unit ?? '',
        dosage: m.dosageInstruction?.[0]?.text ?? '',
        days: m.dispenseRequest?.expectedSupplyDuration?.value,
      })),
      advice: meds[0].note?.[0]?.text ?? lines.filter((l) => !l.startsWith('Tái khám')).join(' '),
      followUp: lines.find((l) => l.startsWith('Tái khám'))?.replace(/^Tái khám\s*/, ''),
      verifyUrl: `${this.baseUrl}/rx/${code}`,
    };
  }
}
