/**
 * The end of a remote examination: in one unit of work the Encounter, the diagnosis (Condition),
 * what the patient reported (Observations), the visit note (Composition), the e-prescription
 * (MedicationRequests sharing a prescription code) and the ChargeItem are written and the
 * Appointment is fulfilled.
 *
 * Rules: only the visit's clinician, through `visits.provide` (the repository adds patient reach
 * and audit); a visit is completed once (409 after); a prescription that raises a safety warning
 * (safety.ts: allergy, duplicate medicine) is refused (422) unless each warning is acknowledged
 * with a reason, which is written as a DetectedIssue the MedicationRequest references; the e-prescription and the charge are the
 * workflow's (rules.ts refuses plain FHIR changes); the unit is recorded as `visit.complete`.
 */
import { randomUUID } from 'node:crypto';
import type {
  AllergyIntolerance,
  Appointment,
  ChargeItem,
  DetectedIssue,
  Composition,
  Condition,
  Encounter,
  HealthcareService,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Organization,
  Patient,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import type { EventBus } from '../events/bus.ts';
import { htmlDiv } from '../fhir/narrative.ts';
import { badRequest, businessRule, conflict } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import { BHYT_SYSTEM } from '../terminology/identifiers.ts';
import { serviceInfo } from './catalog.ts';
import { ATC_SYSTEM, drugByAtc } from '../terminology/drugs.ts';
import type { CompleteInput, Completed, PrescribingCheck, PrescribingIssue, ServiceInfo } from './contract.ts';
import {
  BHYT_CARD_EXT,
  CONTROLLED_CONFIRMATION_EXT,
  DRUG_REGISTRATION_SYSTEM,
  identifierOf,
  LOINC,
  PAYER_EXT,
  personName,
  PRESCRIPTION_SYSTEM,
  serviceIdOf,
  UCUM,
} from './model.ts';
import { facilityCode, prescriptionCode } from './prescription.ts';
import { detectedIssue, prescribingIssues, type PrescribedItem } from './safety.ts';
import { readVisit } from './visit.ts';

const VITALS = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Dấu hiệu sinh tồn' };
/** The section of the visit note the prescription's instructions and follow-up come from. */
export const INSTRUCTIONS_SECTION = 'Hướng dẫn và theo dõi';

export class VisitCompletion {
  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
  ) {}

  /** The prescribing warnings these items would raise for this visit's patient (read as the clinician, audited). */
  async check(ctx: AccessContext, id: string, items: PrescribedItem[]): Promise<PrescribingCheck> {
    return this.store.as(ctx, 'visits.provide').transaction(async (tx) => {
      const v = await readVisit(tx, id);
      const issues = await patientIssues(tx, v.patientId, items);
      await tx.record({
        action: 'visit.prescription-check',
        resourceType: 'Appointment',
        resourceId: id,
        patientIds: [v.patientId],
        detail: { issues: issues.length },
      });
      return { issues };
    });
  }

  async complete(ctx: AccessContext, id: string, input: CompleteInput): Promise<Completed> {
    const result = await this.store.as(ctx, 'visits.provide').transaction(async (tx) => {
      const v = await readVisit(tx, id);
      if (!ctx.actor.practitionerId || ctx.actor.practitionerId !== v.practitionerId)
        throw new AccessDenied('Chỉ bác sĩ của lịch khám này ghi kết quả (only the visit’s clinician)', 403, false, v.patientId);
      if (v.a.status !== 'booked' && v.a.status !== 'arrived' && v.a.status !== 'checked-in')
        throw conflict(`Lịch khám đang ở trạng thái ${v.a.status} (already ${v.a.status})`);
      const patient = await tx.read<Patient>('Patient', v.patientId);
      const service = serviceInfo(await tx.read<HealthcareService>('HealthcareService', serviceIdOf(v.a)!));
      const org = await tx.read<Organization>('Organization', service.organizationId);
      const card = input.bhytCard ?? identifierOf(patient, BHYT_SYSTEM);
      if (input.useInsurance && service.bhytCovered && !card) throw badRequest('Không có mã thẻ BHYT để thanh toán bảo hiểm (no BHYT card to bill)');
      // Prescribing safety: every warning must have been acknowledged with a reason.
      const issues = input.prescription?.items.length ? await patientIssues(tx, v.patientId, input.prescription.items) : [];
      const reasons = new Map(input.acknowledgements.map((a) => [a.key, a.reason]));
      const unanswered = issues.filter((i) => !reasons.has(i.key));
      if (unanswered.length)
        throw businessRule(
          `Cần xác nhận cảnh báo kê đơn kèm lý do (acknowledge each prescribing warning with a reason): ${unanswered.map((i) => i.text).join(' ')}`,
        );
      const written = visitResources({ a: v.a, patient, practitionerId: v.practitionerId!, service, org, input, card, issues, reasons });
      // The Encounter first (everything points at it), then the rest in one statement per type;
      // then the Encounter names its diagnosis (the Condition points back at it).
      const encounter = await tx.update(written.encounter);
      // The overridden warnings (DetectedIssue) before the MedicationRequests that name them.
      for (const d of written.detectedIssues) await tx.update(d);
      const created = await tx.createMany(written.resources);
      const condition = created.find((r) => r.resourceType === 'Condition')!;
      await tx.update<Encounter>(
        { ...encounter, diagnosis: [{ condition: { reference: `Condition/${condition.id}` }, rank: 1 }] },
        { ifMatch: `W/"${encounter.meta?.versionId}"` },
      );
      await tx.update<Appointment>({ ...v.a, status: 'fulfilled' }, { ifMatch: `W/"${v.a.meta?.versionId}"` });
      await tx.record({
        action: 'visit.complete',
        resourceType: 'Encounter',
        resourceId: written.encounterId,
        patientIds: [v.patientId],
        detail: { appointment: id, prescription: written.code, items: input.prescription?.items.length ?? 0, overridden: written.detectedIssues.length },
      });
      return { encounterId: written.encounterId, prescriptionCode: written.code, practitionerId: v.practitionerId! };
    });
    await this.bus.publish({ kind: 'visit.completed', to: { practitionerIds: [result.practitionerId] }, data: { id } }).catch(() => undefined);
    return { encounterId: result.encounterId, prescriptionCode: result.prescriptionCode };
  }
}

interface VisitFacts {
  a: Appointment;
  patient: Patient;
  practitionerId: string;
  service: ServiceInfo;
  org: Organization;
  input: CompleteInput;
  card?: string;
  /** Prescribing warnings and the reasons they were overridden with (by warning key). */
  issues?: PrescribingIssue[];
  reasons?: Map<string, string>;
}

/** The prescribing warnings for these items, from the patient's allergies and current medicines read through `tx`. */
export async function patientIssues(tx: Repository, patientId: string, items: PrescribedItem[]): Promise<PrescribingIssue[]> {
  const p = `Patient/${patientId}`;
  const [allergies, requests, statements] = await Promise.all([
    tx.search<AllergyIntolerance>('AllergyIntolerance', { patient: p, _count: '200' }),
    tx.search<MedicationRequest>('MedicationRequest', { subject: p, status: 'active', _count: '200' }),
    tx.search<MedicationStatement>('MedicationStatement', { subject: p, status: 'active', _count: '200' }),
  ]);
  return prescribingIssues(items, allergies, [...requests, ...statements]);
}

/** Everything the visit writes: its Encounter (with its id, the diagnosis named once the Condition exists), and the resources pointing at it. */
export function visitResources(f: VisitFacts): {
  encounter: Encounter;
  resources: Resource[];
  detectedIssues: DetectedIssue[];
  encounterId: string;
  code?: string;
} {
  const { a, input, org, service } = f;
  const practitionerRef = {
    reference: `Practitioner/${f.practitionerId}`,
    display: a.participant.find((p) => p.actor?.reference === `Practitioner/${f.practitionerId}`)?.actor?.display,
  };
  const now = new Date().toISOString();
  const subject = { reference: `Patient/${f.patient.id}`, display: personName(f.patient) };
  const encounterId = randomUUID();
  const enc = { reference: `Encounter/${encounterId}` };
  const diagnosis = { system: ICD10_SYSTEM, code: input.diagnosis.code, ...(input.diagnosis.display ? { display: input.diagnosis.display } : {}) };
  const orgRef = { reference: `Organization/${org.id}`, display: org.name };
  const section = (title: string, text: string) => ({ title, text: { status: 'generated' as const, div: htmlDiv(text) } });
  const followUp = input.followUpDays ? `Tái khám sau ${input.followUpDays} ngày` : undefined;
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: encounterId,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
    type: a.serviceType,
    serviceType: a.serviceType?.[0],
    subject,
    participant: [{ individual: practitionerRef }],
    appointment: [{ reference: `Appointment/${a.id}` }],
    period: { start: a.start && a.start < now ? a.start : now, end: now },
    reasonCode: a.reasonCode,
    serviceProvider: orgRef,
  };
  const resources: Resource[] = [
    {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Chẩn đoán lần khám' }] },
      ],
      code: { coding: [diagnosis], text: input.diagnosis.display ?? input.diagnosis.code },
      subject,
      encounter: enc,
      recordedDate: now,
      recorder: practitionerRef,
    } as Condition,
    ...reportedObservations(input.reported ?? {}, subject, enc, now),
    {
      resourceType: 'Composition',
      status: 'final',
      type: { coding: [{ system: LOINC, code: '11506-3', display: 'Progress note' }], text: 'Phiếu khám bệnh từ xa' },
      subject,
      encounter: enc,
      date: now,
      author: [practitionerRef],
      title: `Phiếu khám bệnh từ xa — ${service.name}`,
      custodian: orgRef,
      section: [
        section('Lý do khám', a.reasonCode?.[0]?.text ?? ''),
        section('Khám và nhận định', `${input.findings}\n${input.assessment}`),
        section('Chẩn đoán', `${input.diagnosis.code} ${input.diagnosis.display ?? ''}`.trim()),
        section(INSTRUCTIONS_SECTION, [input.instructions, followUp].filter(Boolean).join('\n')),
      ],
    } as Composition,
  ];
  let code: string | undefined;
  const detectedIssues: DetectedIssue[] = (f.issues ?? []).map((i) =>
    detectedIssue(i, f.reasons?.get(i.key) ?? '', randomUUID(), subject, practitionerRef, now),
  );
  const issuesOf = (item: number) => (f.issues ?? []).flatMap((x, k) => (x.item === item ? [{ reference: `DetectedIssue/${detectedIssues[k].id}` }] : []));
  if (input.prescription?.items.length) {
    const kind = input.prescription.kind;
    code = prescriptionCode(facilityCode(org.id!, org.identifier?.find((i) => i.system?.endsWith('/facility-code'))?.value), kind);
    const controlled = input.prescription.controlled;
    const advice = input.prescription.advice;
    input.prescription.items.forEach((it, i) => {
      resources.push({
        resourceType: 'MedicationRequest',
        identifier: [{ system: PRESCRIPTION_SYSTEM, value: `${code}/${i + 1}` }],
        groupIdentifier: { system: PRESCRIPTION_SYSTEM, value: code },
        status: 'active',
        intent: 'order',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'outpatient', display: 'Ngoại trú' }] }],
        medicationCodeableConcept: {
          ...(it.drugCode || it.atc
            ? {
                coding: [
                  ...(it.drugCode ? [{ system: DRUG_REGISTRATION_SYSTEM, code: it.drugCode, display: it.name }] : []),
                  ...(it.atc ? [{ system: ATC_SYSTEM, code: it.atc, display: drugByAtc(it.atc)?.name ?? it.name }] : []),
                ],
              }
            : {}),
          text: it.name,
        },
        ...(issuesOf(i).length ? { detectedIssue: issuesOf(i) } : {}),
        subject,
        encounter: enc,
        authoredOn: now,
        requester: practitionerRef,
        reasonCode: [{ coding: [diagnosis] }],
        dosageInstruction: [{ sequence: 1, text: it.dosage }],
        dispenseRequest: {
          quantity: { value: it.quantity, unit: it.unit },
          ...(it.days ? { expectedSupplyDuration: { value: it.days, unit: 'ngày', system: UCUM, code: 'd' } } : {}),
        },
        ...(advice ? { note: [{ text: advice }] } : {}),
        ...(controlled
          ? {
              extension: [
                {
                  url: CONTROLLED_CONFIRMATION_EXT,
                  extension: [
                    { url: 'confirmedAt', valueDateTime: now },
                    { url: 'idNumber', valueString: controlled.idNumber },
                  ],
                },
              ],
            }
          : {}),
      } as MedicationRequest);
    });
  }
  const insured = input.useInsurance && service.bhytCovered && !!f.card;
  resources.push({
    resourceType: 'ChargeItem',
    status: 'billable',
    code: a.serviceType?.[0] ?? { text: service.name },
    subject,
    context: enc,
    occurrenceDateTime: now,
    performingOrganization: orgRef,
    enterer: practitionerRef,
    enteredDate: now,
    quantity: { value: 1 },
    priceOverride: { value: service.price, currency: 'VND' },
    extension: [
      { url: PAYER_EXT, valueCode: insured ? 'bhyt' : 'self' },
      ...(insured ? [{ url: BHYT_CARD_EXT, valueIdentifier: { system: BHYT_SYSTEM, value: f.card } }] : []),
    ],
  } as ChargeItem);
  return { encounter, resources, detectedIssues, encounterId, code };
}

/** What the patient reported at the visit, as vital-sign Observations performed by the patient. */
function reportedObservations(
  r: NonNullable<CompleteInput['reported']>,
  subject: Reference<Patient>,
  encounter: Reference<Encounter>,
  now: string,
): Observation[] {
  const base = (code: string, display: string, text: string): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [VITALS] }],
    code: { coding: [{ system: LOINC, code, display }], text },
    subject,
    encounter,
    effectiveDateTime: now,
    performer: [subject],
    note: [{ text: 'Người bệnh tự đo, báo trong buổi khám từ xa (patient-reported)' }],
  });
  const q = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM, code });
  const out: Observation[] = [];
  if (r.systolic !== undefined && r.diastolic !== undefined) {
    out.push({
      ...base('85354-9', 'Blood pressure panel with all children optional', 'Huyết áp'),
      component: [
        {
          code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }], text: 'Tâm thu' },
          valueQuantity: q(r.systolic, 'mmHg', 'mm[Hg]'),
        },
        {
          code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }], text: 'Tâm trương' },
          valueQuantity: q(r.diastolic, 'mmHg', 'mm[Hg]'),
        },
      ],
    });
  }
  if (r.heartRate !== undefined) out.push({ ...base('8867-4', 'Heart rate', 'Mạch'), valueQuantity: q(r.heartRate, '/min', '/min') });
  if (r.weightKg !== undefined) out.push({ ...base('29463-7', 'Body weight', 'Cân nặng'), valueQuantity: q(r.weightKg, 'kg', 'kg') });
  if (r.temperatureC !== undefined) out.push({ ...base('8310-5', 'Body temperature', 'Nhiệt độ'), valueQuantity: q(r.temperatureC, '°C', 'Cel') });
  return out;
}
