/**
 * The visits domain's FHIR vocabulary: the code systems, identifier systems and extensions it
 * writes (which also mark what its workflow owns: rules.ts), and small pure readers of the
 * resources it keeps — a booking's Appointment, a visit's ChargeItem, names and times.
 *
 * Rules: pure functions and constants only (no store, no I/O); every system URL the domain
 * writes is declared here once.
 */
import type { Appointment, ChargeItem, Patient, Reference } from '@medplum/fhirtypes';
import type { ChargeSummary, VisitSummary } from './contract.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

export const SERVICE_CATEGORY = { system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'remote-examination', display: 'Khám bệnh từ xa' };
/** `service-category` search value of everything this domain offers. */
export const CATEGORY_QUERY = `${SERVICE_CATEGORY.system}|${SERVICE_CATEGORY.code}`;
export const SERVICE_TYPE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/visit-service';
export const PRICE_EXT = 'https://fhir.cauyte.vn/StructureDefinition/service-price';
export const BHYT_COVERED_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-covered';
export const BHYT_CARD_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-card';
/** On a visit's ChargeItem: who pays (`bhyt` or `self`). Written only by the visit's completion. */
export const PAYER_EXT = 'https://fhir.cauyte.vn/StructureDefinition/payer';
/** The booking code on a booking's Appointment. Written only by booking. */
export const BOOKING_SYSTEM = 'https://fhir.cauyte.vn/sid/visit-booking';
export const PRE_VISIT_URL = 'https://fhir.cauyte.vn/Questionnaire/pre-visit';
export const PRE_VISIT_ID = 'cauyte-pre-visit';
/** The e-prescription code: each MedicationRequest's identifier (`code/n`) and groupIdentifier (`code`). */
export const PRESCRIPTION_SYSTEM = 'https://fhir.cauyte.vn/sid/prescription-code';
/** On each item of a narcotic or psychotropic prescription: when the prescriber confirmed it, and the ID of the patient or collector. */
export const CONTROLLED_CONFIRMATION_EXT = 'https://fhir.cauyte.vn/StructureDefinition/controlled-prescription-confirmation';
/** Số đăng ký thuốc (the drug's marketing-authorisation number in Việt Nam). */
export const DRUG_REGISTRATION_SYSTEM = 'https://fhir.cauyte.vn/sid/vn-drug-registration';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
const TZ_OFFSET = '+07:00';

/** The id in a reference to `type`, if it is one. */
export const idOf = (r: Reference | undefined, type: string): string | undefined =>
  r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : undefined;

export const personName = (r: { name?: { text?: string; family?: string; given?: string[] }[] } | undefined): string =>
  r?.name?.[0]?.text ?? [r?.name?.[0]?.family, ...(r?.name?.[0]?.given ?? [])].filter(Boolean).join(' ');

export const identifierOf = (p: Patient | undefined, system: string): string | undefined => p?.identifier?.find((i) => i.system === system)?.value;

/** "2026-11-25" + "08:15" → the instant in Việt Nam time. */
export function localInstant(date: string, time: string): string {
  return new Date(`${date}T${time}:00${TZ_OFFSET}`).toISOString();
}

/** Midnight in Việt Nam (UTC+7, no daylight saving). */
export function startOfVietnamDay(d: Date): Date {
  return new Date(`${vietnamDay(d)}T00:00:00${TZ_OFFSET}`);
}

export function vnTime(iso: string): string {
  return new Intl.DateTimeFormat('vi-VN', {
    timeZone: 'Asia/Ho_Chi_Minh',
    hour: '2-digit',
    minute: '2-digit',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(new Date(iso));
}

/** Is this Appointment a remote examination (booked here or claiming to be one)? */
export function isRemoteExamination(a: Appointment): boolean {
  return (
    !!a.serviceCategory?.some((c) => c.coding?.some((x) => x.system === SERVICE_CATEGORY.system && x.code === SERVICE_CATEGORY.code)) ||
    !!a.identifier?.some((i) => i.system === BOOKING_SYSTEM)
  );
}

/** The patient and the examining practitioner of a visit. */
export function partiesOf(a: Appointment): { patientId: string; practitionerId?: string } {
  return {
    patientId: a.participant.map((p) => idOf(p.actor, 'Patient')).find(Boolean)!,
    practitionerId: a.participant.map((p) => idOf(p.actor, 'Practitioner')).find(Boolean),
  };
}

/** The HealthcareService a booking is for. */
export const serviceIdOf = (a: Appointment): string | undefined =>
  idOf(
    a.supportingInformation?.find((r) => r.reference?.startsWith('HealthcareService/')),
    'HealthcareService',
  );

export function visitSummary(a: Appointment): VisitSummary {
  const patient = a.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor;
  const prac = a.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor;
  return {
    id: a.id!,
    status: a.status,
    start: a.start!,
    end: a.end!,
    bookingCode: a.identifier?.find((i) => i.system === BOOKING_SYSTEM)?.value,
    service: a.serviceType?.[0]?.text,
    reason: a.reasonCode?.[0]?.text,
    icd10: a.reasonCode?.[0]?.coding?.[0]?.code,
    icd10Display: a.reasonCode?.[0]?.coding?.[0]?.display,
    eligibility: a.comment,
    patient: { id: idOf(patient, 'Patient')!, name: patient?.display },
    practitioner: { id: idOf(prac, 'Practitioner'), name: prac?.display },
    cancelReason: a.cancelationReason?.text,
  };
}

export function chargeSummary(c: ChargeItem): ChargeSummary {
  return {
    serviceCode: c.code?.coding?.[0]?.code,
    serviceName: c.code?.coding?.[0]?.display ?? c.code?.text,
    price: c.priceOverride?.value ?? 0,
    payer: (c.extension?.find((e) => e.url === PAYER_EXT)?.valueCode ?? 'self') as 'bhyt' | 'self',
    bhytCard: c.extension?.find((e) => e.url === BHYT_CARD_EXT)?.valueIdentifier?.value,
  };
}
