/**
 * Demo for citizens: two remote-examination services with a week of bookable slots, a child whose
 * record Nguyễn Văn An manages, and the allergy (penicillin, ATC-coded), long-term medicine,
 * vaccinations and discharge paper of his record.
 * Slots are relative to today, so `topUpDemoSlots` adds the coming week at every demo start.
 * Rules: genuine platform work, so the platform's own repositories (`demo data`, audited): the
 * visits one for services and slots, the family one for the link (family_link is the family
 * domain's table).
 */
import type {
  AllergyIntolerance,
  Binary,
  DocumentReference,
  HealthcareService,
  Immunization,
  MedicationStatement,
  Patient,
  Resource,
  Schedule,
} from '@medplum/fhirtypes';
import { recordFamilyLink } from '../family/service.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { DemoSummary } from './demo.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';
import { CCCD_SYSTEM } from '../terminology/identifiers.ts';
import { newPdf } from '../visits/pdf.ts';
import { serviceInfo } from '../visits/catalog.ts';
import { SERVICE_TYPE_SYSTEM } from '../visits/model.ts';
import type { VisitService } from '../visits/service.ts';

const REASON = 'demo data';

/** Service code → its demo practitioner (index in the demo list), opening hours and slot length. */
const DEMO_SERVICES = [
  {
    code: 'kham-tu-xa-man-tinh',
    name: 'Khám từ xa bệnh mạn tính (tăng huyết áp, đái tháo đường)',
    site: 'batxat',
    practitioner: 6,
    specialty: 'Đa khoa',
    price: 39_000,
    bhytCovered: true,
    windows: [
      ['07:30', '11:00'],
      ['13:30', '16:30'],
    ],
    minutes: 20,
  },
  {
    code: 'kham-tu-xa-tim-mach',
    name: 'Khám từ xa chuyên khoa Tim mạch',
    site: 'bachmai',
    practitioner: 0,
    specialty: 'Tim mạch',
    price: 150_000,
    bhytCovered: false,
    windows: [['08:00', '11:30']],
    minutes: 15,
  },
] as const;

export interface VisitDemo {
  services: Record<string, string>;
  childId: string;
}

export async function seedVisitDemo(store: FhirStore, visits: VisitService, demo: DemoSummary): Promise<VisitDemo> {
  const repo = store.system(REASON, 'visits');
  const services: Record<string, string> = {};
  for (const s of DEMO_SERVICES) {
    const info = await visits.catalog.addService(repo, {
      code: s.code,
      name: s.name,
      specialty: s.specialty,
      price: s.price,
      bhytCovered: s.bhytCovered,
      organizationId: demo.ids.organizations[s.site],
    });
    services[s.code] = info.id;
  }
  await topUpDemoSlots(store, visits, demo.ids.practitioners);

  // Nguyễn Văn An's son; An manages his record (the birth certificate was seen at the station).
  const father = await repo.read<Patient>('Patient', demo.ids.patients[0]);
  const child = await repo.create<Patient>({
    resourceType: 'Patient',
    active: true,
    identifier: [{ system: CCCD_SYSTEM, value: '015218000123', type: { text: 'CCCD' } }],
    name: [{ use: 'official', family: 'Nguyễn', given: ['Minh', 'Khang'], text: 'Nguyễn Minh Khang' }],
    gender: 'male',
    birthDate: '2018-03-12',
    address: father.address,
    managingOrganization: father.managingOrganization,
    generalPractitioner: father.generalPractitioner,
  });
  await recordFamilyLink(
    store.system(REASON, 'family'),
    { managerPatientId: father.id!, patientId: child.id!, relationship: 'child', proof: 'Giấy khai sinh số 45/2018, UBND xã Bát Xát' },
    'cán bộ trạm y tế (dữ liệu mẫu)',
    'demo-seed',
  );

  // His allergy, vaccinations and a discharge paper from the provincial hospital.
  const subject = { reference: `Patient/${father.id}`, display: 'Nguyễn Văn An' };
  const extras: Resource[] = [
    {
      resourceType: 'AllergyIntolerance',
      patient: subject,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
      category: ['medication'],
      criticality: 'high',
      // Coded with its WHO ATC class, so prescribing checks can match any penicillin (J01C*).
      code: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01C', display: 'Kháng sinh nhóm beta-lactam, penicilin' }], text: 'Penicillin' },
      recordedDate: '2019-06-02',
      reaction: [{ manifestation: [{ text: 'Nổi mẩn đỏ, khó thở' }] }],
    } as AllergyIntolerance,
    // His long-term blood-pressure medicine (from the provincial hospital's discharge).
    {
      resourceType: 'MedicationStatement',
      status: 'active',
      subject,
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.whocc.no/atc', code: 'C07AB07', display: 'Bisoprolol' }],
        text: 'Bisoprolol 2,5 mg',
      },
      effectiveDateTime: '2026-09-09',
      dateAsserted: '2026-09-09',
      dosage: [{ text: 'Uống 1 viên mỗi sáng' }],
    } as MedicationStatement,
    {
      resourceType: 'Immunization',
      status: 'completed',
      patient: subject,
      vaccineCode: { text: 'Vắc xin COVID-19 (mũi 3)' },
      occurrenceDateTime: '2022-03-15',
      primarySource: true,
    } as Immunization,
    {
      resourceType: 'Immunization',
      status: 'completed',
      patient: subject,
      vaccineCode: { text: 'Vắc xin uốn ván (VAT)' },
      occurrenceDateTime: '2024-08-20',
      primarySource: true,
    } as Immunization,
  ];
  await repo.createMany(extras);
  const { doc, text, done } = newPdf({ title: 'Giấy ra viện', author: 'Bệnh viện Đa khoa tỉnh Lào Cai', subject: 'Giấy ra viện' });
  doc.font('bold').fontSize(14);
  text('GIẤY RA VIỆN', { align: 'center' });
  doc.font('regular').fontSize(11);
  text('Bệnh viện Đa khoa tỉnh Lào Cai — Khoa Nội tim mạch');
  text('Họ tên người bệnh: Nguyễn Văn An');
  text('Vào viện: 02/09/2026 — Ra viện: 09/09/2026');
  text('Chẩn đoán: I10 Tăng huyết áp vô căn, cơn tăng huyết áp');
  text('Lời dặn: dùng thuốc đều, đo huyết áp hằng ngày, tái khám tại trạm y tế xã sau 1 tháng.');
  doc.end();
  const pdf = await done;
  const binary = await repo.create<Binary>({
    resourceType: 'Binary',
    contentType: 'application/pdf',
    data: pdf.toString('base64'),
    securityContext: { reference: `Patient/${father.id}` },
  });
  await repo.create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }], text: 'Giấy ra viện' },
    subject,
    date: '2026-09-09T10:00:00+07:00',
    description: 'Giấy ra viện — Bệnh viện Đa khoa tỉnh Lào Cai',
    content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${binary.id}`, title: 'giay-ra-vien.pdf', size: pdf.length } }],
  });
  return { services, childId: child.id! };
}

/** The coming week of slots for each demo service (idempotent). */
export async function topUpDemoSlots(store: FhirStore, visits: VisitService, practitioners?: string[]): Promise<number> {
  const repo = store.system(REASON, 'visits');
  let created = 0;
  for (const h of await repo.search<HealthcareService>('HealthcareService', { _count: '200' })) {
    const info = serviceInfo(h);
    const spec = DEMO_SERVICES.find((s) => s.code === info.code && h.type?.[0]?.coding?.[0]?.system === SERVICE_TYPE_SYSTEM);
    if (!spec) continue;
    let practitionerId = practitioners?.[spec.practitioner];
    if (!practitionerId) {
      const schedule = await repo.searchOne<Schedule>('Schedule', { actor: `HealthcareService/${info.id}` });
      practitionerId = schedule?.actor.find((a) => a.reference?.startsWith('Practitioner/'))?.reference?.split('/')[1];
    }
    if (!practitionerId) continue;
    for (const [start, end] of spec.windows) {
      created += (await visits.catalog.openSlots(repo, { practitionerId, serviceId: info.id, from: vietnamDay(), days: 7, start, end, minutes: spec.minutes }))
        .created;
    }
  }
  return created;
}
