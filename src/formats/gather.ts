/**
 * A finished remote visit's claim facts (xml130/facts.ts), read from the record: the booking's
 * Appointment, its Encounter, the patient, the facility and its codes, the service, the examining
 * practitioner's licence, the diagnosis, the visit note, the weight the patient reported, the
 * e-prescription (priced from the facility's formulary when the facility dispenses the medicine)
 * and the charge (who paid, which card).
 *
 * Rules: reads only, through the repository it is given (the caller decides whose: claims.ts uses
 * the platform's, audited with its reason, after checking the actor's facility). What the record
 * does not hold is left undefined — the tables' validation lists it; nothing is made up. Choices
 * the sources do not settle are marked [U] (docs/national-formats.md).
 */
import type {
  Appointment,
  ChargeItem,
  Composition,
  Condition,
  Encounter,
  HealthcareService,
  Medication,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
} from '@medplum/fhirtypes';
import { narrativeText } from '../fhir/narrative.ts';
import { conflict, notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../terminology/identifiers.ts';
import {
  ACTIVE_INGREDIENT_SYSTEM,
  BHYT_SERVICE_SYSTEM,
  DEPARTMENT_EXT,
  ETHNICITY_EXT,
  ext,
  FACILITY_CODE_SYSTEM,
  FORMULARY_OF_EXT,
  HEAD_INSURANCE_NO_EXT,
  idValue,
  LICENCE_SYSTEM,
  NATIONALITY_EXT,
  OCCUPATION_EXT,
  ROUTE_EXT,
} from './model.ts';
import { ethnicCode, placeCodes } from './places.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';
import type { ClaimFacts, Medicine } from './xml130/facts.ts';

/** Same markers the visits domain writes (src/visits/model.ts). */
const BOOKING_SYSTEM = 'https://fhir.cauyte.vn/sid/visit-booking';
const PAYER_EXT = 'https://fhir.cauyte.vn/StructureDefinition/payer';
const BHYT_CARD_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-card';
const BHYT_COVERED_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-covered';
const DRUG_REGISTRATION_SYSTEM = 'https://fhir.cauyte.vn/sid/vn-drug-registration';
const WEIGHT = '29463-7';

export const ref = (r: { reference?: string } | undefined, type: string) =>
  r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : undefined;
export const nameOf = (r: { name?: { text?: string; family?: string; given?: string[] }[] }) =>
  r.name?.[0]?.text ?? [r.name?.[0]?.family, ...(r.name?.[0]?.given ?? [])].filter(Boolean).join(' ');

export interface GatheredVisit {
  facts: ClaimFacts;
  organizationId: string;
  patientId: string;
  encounterId: string;
  encounter: Encounter;
}

/** Facts of the finished remote visit booked as Appointment `appointmentId`. */
export async function gatherVisit(repo: Repository, appointmentId: string): Promise<GatheredVisit> {
  const a = await repo.read<Appointment>('Appointment', appointmentId);
  if (!a.identifier?.some((i) => i.system === BOOKING_SYSTEM)) throw notFound(`Lịch ${appointmentId} không phải lịch khám từ xa (not a remote visit)`);
  if (a.status !== 'fulfilled') throw conflict(`Lần khám chưa kết thúc (the visit is ${a.status}, not finished)`);
  const enc = (await repo.search<Encounter>('Encounter', new URLSearchParams({ appointment: `Appointment/${a.id}`, _count: '1' })))[0];
  if (!enc) throw conflict('Lần khám chưa có phiếu khám (no Encounter for this visit)');
  const byEncounter = (_type: string, param = 'encounter') => new URLSearchParams({ [param]: `Encounter/${enc.id}`, _count: '200' });
  // One after another: inside a transaction the queries share one connection.
  const conditions = await repo.search<Condition>('Condition', byEncounter('Condition'));
  const compositions = await repo.search<Composition>('Composition', byEncounter('Composition'));
  const observations = await repo.search<Observation>('Observation', byEncounter('Observation'));
  const requests = await repo.search<MedicationRequest>('MedicationRequest', byEncounter('MedicationRequest'));
  const charges = await repo.search<ChargeItem>('ChargeItem', byEncounter('ChargeItem', 'context'));
  const charge = charges.find((c) => ext(c.extension, PAYER_EXT));
  const patientId = ref(enc.subject, 'Patient')!;
  const orgId = ref(charge?.performingOrganization, 'Organization') ?? ref(enc.serviceProvider, 'Organization');
  if (!orgId) throw conflict('Lần khám không ghi cơ sở thực hiện (the visit names no facility)');
  const serviceId = ref(
    a.supportingInformation?.find((r) => r.reference?.startsWith('HealthcareService/')),
    'HealthcareService',
  );
  const practitionerId = ref(enc.participant?.[0]?.individual, 'Practitioner');
  const patient = await repo.read<Patient>('Patient', patientId);
  const org = await repo.read<Organization>('Organization', orgId);
  const service = serviceId ? await repo.tryRead<HealthcareService>('HealthcareService', serviceId) : undefined;
  const practitioner = practitionerId ? await repo.tryRead<Practitioner>('Practitioner', practitionerId) : undefined;

  const facilityCode = idValue(org.identifier, FACILITY_CODE_SYSTEM);
  const weight = observations.find((o) => o.code?.coding?.some((c) => c.code === WEIGHT))?.valueQuantity?.value;
  const condition = conditions[0];
  const diagnosis = condition?.code?.coding?.[0];
  const note = compositions[0];
  const section = (title: string) => {
    const s = note?.section?.find((x) => x.title === title)?.text;
    return s ? narrativeText(s.div).trim() : undefined;
  };
  const payer = ext(charge?.extension, PAYER_EXT)?.valueCode;
  const cardNo = ext(charge?.extension, BHYT_CARD_EXT)?.valueIdentifier?.value;
  const cardId = patient.identifier?.find((i) => i.system === BHYT_SYSTEM && i.value === cardNo);
  const insured = payer === 'bhyt' && !!cardNo;
  const followDays = /Tái khám sau (\d+) ngày/.exec(section('Hướng dẫn và theo dõi') ?? '')?.[1];
  const end = enc.period?.end ?? enc.period?.start ?? a.end!;

  const medicines = await formularyPriced(repo, requests, orgId);
  const facts: ClaimFacts = {
    visitKey: a.id!,
    recordNo: enc.id!,
    facility: {
      code: facilityCode,
      name: org.name ?? '',
      departmentCode: ext(org.extension, DEPARTMENT_EXT)?.valueString,
      headInsuranceNo: ext(org.extension, HEAD_INSURANCE_NO_EXT)?.valueString,
    },
    patient: patientFacts(patient, weight),
    ...(insured
      ? {
          card: {
            number: cardNo!,
            ...(cardId?.period?.start ? { validFrom: cardId.period.start } : {}),
            ...(cardId?.period?.end ? { validTo: cardId.period.end } : {}),
          },
        }
      : {}),
    subjectCode: subjectCode(insured, patient, orgId),
    start: enc.period?.start ?? a.start!,
    end,
    reason: a.reasonCode?.[0]?.text ?? a.reasonCode?.[0]?.coding?.[0]?.display ?? '',
    diagnosis: { code: diagnosis?.code ?? '', ...(diagnosis?.display ? { display: diagnosis.display } : {}) },
    conclusion: section('Chẩn đoán') ?? condition?.code?.text ?? '',
    advice: section('Hướng dẫn và theo dõi'),
    ...(followDays ? { followUp: vietnamDay(new Date(end).getTime() + Number(followDays) * 86_400_000) } : {}),
    practitioner: { licence: idValue(practitioner?.identifier, LICENCE_SYSTEM), name: practitioner ? nameOf(practitioner) : undefined },
    service: {
      code: service?.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === BHYT_SERVICE_SYSTEM)?.code,
      name: service?.name ?? charge?.code?.text ?? '',
      price: charge?.priceOverride?.value ?? 0,
      inList: ext(service?.extension, BHYT_COVERED_EXT)?.valueBoolean === true,
      insured,
    },
    medicines,
  };
  return { facts, organizationId: orgId, patientId, encounterId: enc.id!, encounter: enc };
}

/** The patient's columns (XML0, XML1), as the record holds them. */
export function patientFacts(patient: Patient, weightKg?: number): ClaimFacts['patient'] {
  const home = patient.address?.find((x) => x.use === 'home') ?? patient.address?.[0];
  const places = placeCodes(home?.state, home?.city);
  const ethnicity = ext(patient.extension, ETHNICITY_EXT)?.valueCoding;
  const nationality = ext(ext(patient.extension, NATIONALITY_EXT)?.extension, 'code')?.valueCodeableConcept?.coding?.[0]?.code;
  return {
    id: patient.id!,
    name: nameOf(patient),
    cccd: idValue(patient.identifier, CCCD_SYSTEM),
    birthDate: patient.birthDate,
    gender: patient.gender,
    // [U] MA_QUOCTICH: TT 07/2016/TT-BCA list; "000" for Việt Nam is what implementations send, not read in the source.
    nationality: nationality ?? (home?.country === 'VN' ? '000' : undefined),
    ethnicity: ethnicCode(ethnicity?.display),
    occupation: ext(patient.extension, OCCUPATION_EXT)?.valueCoding?.code,
    address: home ? [...(home.line ?? []), home.city, home.state].filter(Boolean).join(', ') : undefined,
    ...places,
    phone: patient.telecom?.find((t) => t.system === 'phone')?.value,
    weightKg,
  };
}

/**
 * MA_DOITUONG_KCB [U]: self-paid → "9" (non-BHYT, QĐ 3276, unverified); insured at the facility
 * that manages the patient (taken as the card's registration facility) → "1.1"; otherwise the
 * facility must decide (left empty, listed as missing).
 */
function subjectCode(insured: boolean, patient: Patient, orgId: string): string | undefined {
  if (!insured) return '9';
  return ref(patient.managingOrganization, 'Organization') === orgId ? '1.1' : undefined;
}

/** The prescription's medicines; those in the facility's formulary (a Medication with a price) are dispensed and billed by it. */
async function formularyPriced(repo: Repository, requests: MedicationRequest[], orgId: string): Promise<Medicine[]> {
  const out: Medicine[] = [];
  for (const r of requests) {
    const reg = r.medicationCodeableConcept?.coding?.find((c) => c.system === DRUG_REGISTRATION_SYSTEM)?.code;
    const med = reg
      ? (await repo.search<Medication>('Medication', new URLSearchParams({ code: `${DRUG_REGISTRATION_SYSTEM}|${reg}` }))).find(
          (m) => ref(ext(m.extension, FORMULARY_OF_EXT)?.valueReference, 'Organization') === orgId,
        )
      : undefined;
    const strength = med?.ingredient?.[0]?.strength?.numerator;
    out.push({
      name: r.medicationCodeableConcept?.text ?? '',
      activeCode: med?.code?.coding?.find((c) => c.system === ACTIVE_INGREDIENT_SYSTEM)?.code,
      registration: reg,
      unit: r.dispenseRequest?.quantity?.unit ?? '',
      strength: strength ? `${strength.value} ${strength.unit ?? ''}`.trim() : undefined,
      routeCode: ext(med?.extension, ROUTE_EXT)?.valueCode,
      form: med?.form?.text,
      dose: r.dosageInstruction?.[0]?.text ?? '',
      quantity: r.dispenseRequest?.quantity?.value ?? 0,
      price: ext(med?.extension, 'https://fhir.cauyte.vn/StructureDefinition/service-price')?.valueMoney?.value,
      orderedAt: r.authoredOn ?? '',
    });
  }
  return out;
}
