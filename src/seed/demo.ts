/**
 * Demo data: a small but realistic referral network — a central hospital, two provincial
 * hospitals and four commune health stations in real (post-2025) communes — with practitioners,
 * patients with Vietnamese names and valid CCCD/BHYT numbers, encounters, ICD-10 conditions and
 * LOINC/UCUM observations. Deterministic: the same seed always gives the same people.
 *
 * Longer than 400 lines on purpose: the data tables of the demo network, read together in one place.
 */
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../terminology/identifiers.ts';
import type { FhirStore } from '../fhir/store.ts';
import { ADMIN_UNIT_EXT, COMMUNE_CODE_SYSTEM, FACILITY_CODE_SYSTEM, FACILITY_OWNER_SYSTEM, PROVINCE_CODE_SYSTEM } from '../programme/model.ts';
import { agreementContract } from '../programme/agreements.ts';
import { prng } from './prng.ts';

export const DEMO_TAG = { system: 'https://fhir.cauyte.vn/CodeSystem/data-origin', code: 'demo', display: 'Dữ liệu minh họa' };
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const ETHNICITY_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/vn-ethnicity';
export const ETHNICITY_EXT = 'https://fhir.cauyte.vn/StructureDefinition/ethnicity';
export const FACILITY_LEVEL_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/facility-level';

interface Commune {
  code: number;
  name: string;
}
interface Province {
  code: number;
  name: string;
  wards: Commune[];
}

const ADMIN_UNITS = new URL('../../data/terminology/vn-admin-units-2025.json', import.meta.url);

function findCommune(provinces: Province[], provinceCode: number, name: string): { province: Province; commune: Commune } {
  const province = provinces.find((p) => p.code === provinceCode);
  const commune = province?.wards.find((w) => w.name === name);
  if (!province || !commune) throw new Error(`Demo data: commune ${name} not found in province ${provinceCode}`);
  return { province, commune };
}

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lò', 'Giàng', 'Vàng', 'Sùng', 'Lường', 'Quàng'];
const MIDDLE_M = ['Văn', 'Đức', 'Minh', 'Hữu', 'Quang', 'Công', 'A'];
const MIDDLE_F = ['Thị', 'Ngọc', 'Thu', 'Thanh', 'Minh'];
const GIVEN_M = ['An', 'Bình', 'Cường', 'Dũng', 'Đạt', 'Hải', 'Hùng', 'Khánh', 'Long', 'Nam', 'Phúc', 'Sơn', 'Tuấn', 'Việt', 'Páo', 'Dính'];
const GIVEN_F = ['Hà', 'Hương', 'Lan', 'Mai', 'Ngân', 'Phương', 'Thảo', 'Trang', 'Yến', 'Dung', 'Mỷ', 'Xuân'];
const ETHNIC = [
  { code: '1', display: 'Kinh' },
  { code: '3', display: 'Thái' },
  { code: '4', display: 'Mường' },
  { code: '8', display: 'Mông' },
  { code: '2', display: 'Tày' },
  { code: '6', display: 'Dao' },
];

export const DEMO_CONDITIONS = [
  { code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
  { code: 'E11', display: 'Bệnh đái tháo đường không phụ thuộc insuline' },
  { code: 'J18.9', display: 'Viêm phổi, không đặc hiệu' },
  { code: 'J45.9', display: 'Hen phế quản, không đặc hiệu' },
  { code: 'K29.7', display: 'Viêm dạ dày, không đặc hiệu' },
  { code: 'M54.5', display: 'Đau vùng thắt lưng' },
  { code: 'A90', display: 'Sốt Dengue [sốt xuất huyết cổ điển]' },
  { code: 'N18.9', display: 'Bệnh thận mạn, không đặc hiệu' },
  { code: 'I20.9', display: 'Cơn đau thắt ngực, không đặc hiệu' },
  { code: 'J44.9', display: 'Bệnh phổi tắc nghẽn mạn tính, không đặc hiệu' },
  { code: 'C50.9', display: 'U ác của vú, không đặc hiệu' },
];

const VITALS = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Dấu hiệu sinh tồn' };
const LAB = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Xét nghiệm' };

interface Site {
  key: string;
  /** National facility code (5 characters, as in the insurance XML; demo values). */
  code: string;
  name: string;
  level: 'central' | 'provincial' | 'commune';
  provinceCode: number;
  commune: string;
  line: string;
  parent?: string;
  phone: string;
}

const SITES: Site[] = [
  {
    key: 'bachmai',
    code: '01001',
    name: 'Bệnh viện Bạch Mai',
    level: 'central',
    provinceCode: 1,
    commune: 'Phường Bạch Mai',
    line: '78 Giải Phóng',
    phone: '02438693731',
  },
  {
    key: 'laocai',
    code: '10001',
    name: 'Bệnh viện Đa khoa tỉnh Lào Cai',
    level: 'provincial',
    provinceCode: 15,
    commune: 'Phường Lào Cai',
    line: 'Đường Chiềng On',
    parent: 'bachmai',
    phone: '02143820006',
  },
  {
    key: 'dienbien',
    code: '11001',
    name: 'Bệnh viện Đa khoa tỉnh Điện Biên',
    level: 'provincial',
    provinceCode: 11,
    commune: 'Phường Điện Biên Phủ',
    line: 'Tổ 3, đường Võ Nguyên Giáp',
    parent: 'bachmai',
    phone: '02153825200',
  },
  {
    key: 'batxat',
    code: '10010',
    name: 'Trạm Y tế xã Bát Xát',
    level: 'commune',
    provinceCode: 15,
    commune: 'Xã Bát Xát',
    line: 'Thôn Phìn Ngan',
    parent: 'laocai',
    phone: '02143883115',
  },
  {
    key: 'simacai',
    code: '10011',
    name: 'Trạm Y tế xã Si Ma Cai',
    level: 'commune',
    provinceCode: 15,
    commune: 'Xã Si Ma Cai',
    line: 'Thôn Sản Sín Pao',
    parent: 'laocai',
    phone: '02143796120',
  },
  {
    key: 'muongnhe',
    code: '11010',
    name: 'Trạm Y tế xã Mường Nhé',
    level: 'commune',
    provinceCode: 11,
    commune: 'Xã Mường Nhé',
    line: 'Bản Mường Nhé',
    parent: 'dienbien',
    phone: '02153740115',
  },
  {
    key: 'tuachua',
    code: '11011',
    name: 'Trạm Y tế xã Tủa Chùa',
    level: 'commune',
    provinceCode: 11,
    commune: 'Xã Tủa Chùa',
    line: 'Tổ dân phố Đồng Tâm',
    parent: 'dienbien',
    phone: '02153845122',
  },
];

const LEVEL_DISPLAY = { central: 'Tuyến trung ương', provincial: 'Tuyến tỉnh', commune: 'Tuyến xã' };

const PRACTITIONERS: {
  name: [string, string];
  gender: 'male' | 'female';
  site: string;
  specialty: string;
  specialtyDisplay: string;
  qualification: string;
  email?: string;
}[] = [
  {
    name: ['Trần', 'Quốc Hưng'],
    gender: 'male',
    site: 'bachmai',
    specialty: 'cardiology',
    specialtyDisplay: 'Tim mạch',
    qualification: 'PGS.TS.BS',
    email: 'hung.tq@bachmai.example',
  },
  {
    name: ['Lê', 'Thị Minh Hằng'],
    gender: 'female',
    site: 'bachmai',
    specialty: 'oncology',
    specialtyDisplay: 'Ung bướu',
    qualification: 'TS.BS',
    email: 'hang.ltm@bachmai.example',
  },
  { name: ['Phạm', 'Văn Đông'], gender: 'male', site: 'bachmai', specialty: 'respiratory', specialtyDisplay: 'Hô hấp', qualification: 'BSCKII' },
  { name: ['Nguyễn', 'Thu Trang'], gender: 'female', site: 'laocai', specialty: 'internal', specialtyDisplay: 'Nội khoa', qualification: 'BSCKI' },
  { name: ['Hoàng', 'Đức Anh'], gender: 'male', site: 'laocai', specialty: 'pediatrics', specialtyDisplay: 'Nhi khoa', qualification: 'ThS.BS' },
  { name: ['Lò', 'Văn Thành'], gender: 'male', site: 'dienbien', specialty: 'internal', specialtyDisplay: 'Nội khoa', qualification: 'BSCKI' },
  { name: ['Giàng', 'A Sử'], gender: 'male', site: 'batxat', specialty: 'general', specialtyDisplay: 'Đa khoa', qualification: 'BS' },
  { name: ['Vàng', 'Thị Mai'], gender: 'female', site: 'simacai', specialty: 'general', specialtyDisplay: 'Đa khoa', qualification: 'Y sĩ' },
  { name: ['Quàng', 'Văn Hải'], gender: 'male', site: 'muongnhe', specialty: 'general', specialtyDisplay: 'Đa khoa', qualification: 'BS' },
  { name: ['Đặng', 'Thị Xuân'], gender: 'female', site: 'tuachua', specialty: 'general', specialtyDisplay: 'Đa khoa', qualification: 'Y sĩ' },
];

/** A valid 12-digit CCCD for the given birth province, year and sex. */
export function makeCccd(provinceCode: number, birthYear: number, gender: 'male' | 'female', serial: number): string {
  const centuryIndex = { 1800: 4, 1900: 0, 2000: 1, 2100: 2, 2200: 3 }[Math.floor(birthYear / 100) * 100] ?? 0;
  const digit = centuryIndex * 2 + (gender === 'female' ? 1 : 0);
  return `0${String(provinceCode).padStart(2, '0')}${digit}${String(birthYear % 100).padStart(2, '0')}${String(serial).padStart(6, '0')}`;
}

function uuid(n: number): string {
  return `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export interface DemoSummary {
  organizations: number;
  practitioners: number;
  patients: number;
  total: number;
  /** Server ids of what was created: facilities by key, practitioners and patients in order. */
  ids: { organizations: Record<string, string>; practitioners: string[]; patients: string[] };
}

export const DEMO_SITE_KEYS = SITES.map((s) => s.key);
export const DEMO_PRACTITIONER_SITES = PRACTITIONERS.map((p) => p.site);

/** Builds the demo network as one transaction bundle (ids resolved by the server). */
export function buildDemoBundle(patientCount = 50, seed = 2025): Bundle {
  const provinces = JSON.parse(readFileSync(ADMIN_UNITS, 'utf8')) as Province[];
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const entries: BundleEntry[] = [];
  let n = 0;
  const add = (resource: Resource): string => {
    const fullUrl = uuid(++n);
    entries.push({ fullUrl, resource: { ...resource, meta: { tag: [DEMO_TAG] } } as Resource, request: { method: 'POST', url: resource.resourceType } });
    return fullUrl;
  };

  const orgRef = new Map<string, string>();
  const siteInfo = new Map<string, { province: Province; commune: Commune }>();
  for (const site of SITES) {
    const place = findCommune(provinces, site.provinceCode, site.commune);
    siteInfo.set(site.key, place);
    const ref = add({
      resourceType: 'Organization',
      active: true,
      identifier: [{ system: FACILITY_CODE_SYSTEM, value: site.code }],
      name: site.name,
      type: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] },
        { coding: [{ system: FACILITY_LEVEL_SYSTEM, code: site.level, display: LEVEL_DISPLAY[site.level] }] },
        { coding: [{ system: FACILITY_OWNER_SYSTEM, code: 'public', display: 'Công lập' }] },
      ],
      telecom: [{ system: 'phone', value: site.phone, use: 'work' }],
      address: [
        {
          use: 'work',
          line: [site.line],
          city: place.commune.name,
          state: place.province.name,
          country: 'VN',
          extension: [
            { url: ADMIN_UNIT_EXT, valueCoding: { system: PROVINCE_CODE_SYSTEM, code: String(place.province.code), display: place.province.name } },
            { url: ADMIN_UNIT_EXT, valueCoding: { system: COMMUNE_CODE_SYSTEM, code: String(place.commune.code), display: place.commune.name } },
          ],
        },
      ],
      ...(site.parent ? { partOf: { reference: orgRef.get(site.parent)!, display: SITES.find((s) => s.key === site.parent)!.name } } : {}),
    } as Resource);
    orgRef.set(site.key, ref);
  }

  // Support agreements (hợp đồng hỗ trợ chuyên môn): Bạch Mai supports every demo facility, each
  // provincial hospital its communes. Bát Xát and Điện Biên have none (a request between them is refused).
  const ALL_SPECIALTIES = ['oncology', 'cardiology', 'respiratory', 'internal', 'pediatrics', 'obstetrics', 'surgery', 'neurology', 'infectious', 'general'];
  const agreements: [string, string][] = [
    ...SITES.filter((s) => s.key !== 'bachmai').map((s): [string, string] => ['bachmai', s.key]),
    ...SITES.filter((s) => s.level === 'commune').map((s): [string, string] => [s.parent!, s.key]),
  ];
  for (const [sup, sub] of agreements) {
    const a = SITES.find((s) => s.key === sup)!;
    const b = SITES.find((s) => s.key === sub)!;
    const c = agreementContract({
      supportingId: 'x',
      supportingName: a.name,
      supportedId: 'y',
      supportedName: b.name,
      specialties: ALL_SPECIALTIES,
      start: '2025-07-01',
    });
    c.authority = [{ reference: orgRef.get(sup)!, display: a.name }];
    c.subject = [{ reference: orgRef.get(sub)!, display: b.name }];
    c.signer = c.signer!.map((s, i) => {
      const ref = { reference: orgRef.get(i === 0 ? sup : sub)!, display: i === 0 ? a.name : b.name };
      return { ...s, party: ref, signature: s.signature.map((g) => ({ ...g, who: ref })) };
    });
    c.identifier = [{ system: c.identifier![0].system, value: `demo-${sup}-${sub}` }];
    c.issued = '2025-07-01T00:00:00+07:00';
    add(c);
  }

  const practitionerRefs = new Map<string, string[]>();
  PRACTITIONERS.forEach((p, i) => {
    const ref = add({
      resourceType: 'Practitioner',
      active: true,
      identifier: [{ system: 'https://fhir.cauyte.vn/sid/practising-certificate', value: `CCHN-${String(1001 + i)}` }],
      name: [{ use: 'official', family: p.name[0], given: p.name[1].split(' '), prefix: [p.qualification], text: `${p.name[0]} ${p.name[1]}` }],
      gender: p.gender,
      ...(p.email ? { telecom: [{ system: 'email', value: p.email, use: 'work' }] } : {}),
      qualification: [{ code: { text: p.qualification } }],
    } as Resource);
    add({
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: ref, display: `${p.qualification} ${p.name[0]} ${p.name[1]}` },
      organization: { reference: orgRef.get(p.site)!, display: SITES.find((s) => s.key === p.site)!.name },
      code: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/practitioner-role', code: 'doctor', display: 'Bác sĩ' }] }],
      specialty: [{ coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/specialty', code: p.specialty, display: p.specialtyDisplay }] }],
    } as Resource);
    practitionerRefs.set(p.site, [...(practitionerRefs.get(p.site) ?? []), ref]);
  });

  const communeSites = SITES.filter((s) => s.level === 'commune');
  const now = Date.UTC(2026, 10, 1);
  const day = 86_400_000;
  for (let i = 0; i < patientCount; i++) {
    const gender: 'male' | 'female' = i % 2 === 0 ? 'male' : 'female';
    // The first patient is the one the guides and tests talk about.
    const family = i === 0 ? 'Nguyễn' : pick(FAMILY);
    const middle = i === 0 ? 'Văn' : pick(gender === 'male' ? MIDDLE_M : MIDDLE_F);
    const given = i === 0 ? 'An' : pick(gender === 'male' ? GIVEN_M : GIVEN_F);
    const birthYear = 1940 + Math.floor(rnd() * 80);
    const birthDate = `${birthYear}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
    const site = communeSites[i % communeSites.length];
    const place = siteInfo.get(site.key)!;
    const ethnic = site.provinceCode === 1 ? ETHNIC[0] : pick(ETHNIC);
    const cccd = makeCccd(site.provinceCode, birthYear, gender, 100000 + Math.floor(rnd() * 899999));
    const bhyt = `${pick(['HN', 'DN', 'TE', 'HT', 'GD'])}${1 + Math.floor(rnd() * 5)}${String(site.provinceCode).padStart(2, '0')}${String(Math.floor(rnd() * 1e10)).padStart(10, '0')}`;
    const gp = practitionerRefs.get(site.key)![0];
    const patientRef = add({
      resourceType: 'Patient',
      active: true,
      identifier: [
        { use: 'official', type: { text: 'CCCD' }, system: CCCD_SYSTEM, value: cccd },
        { type: { text: 'Thẻ BHYT' }, system: BHYT_SYSTEM, value: bhyt },
      ],
      name: [{ use: 'official', family, given: [middle, given], text: `${family} ${middle} ${given}` }],
      gender,
      birthDate,
      telecom: [{ system: 'phone', value: `09${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`, use: 'mobile' }],
      address: [
        {
          use: 'home',
          line: [`Thôn ${pick(['Nậm Pung', 'Sín Chải', 'Na Lốc', 'Pa Cheo', 'Huổi Lếch', 'Nà Hỳ'])}`],
          city: place.commune.name,
          state: place.province.name,
          country: 'VN',
        },
      ],
      extension: [{ url: ETHNICITY_EXT, valueCoding: { system: ETHNICITY_SYSTEM, ...ethnic } }],
      managingOrganization: { reference: orgRef.get(site.key)!, display: site.name },
      generalPractitioner: [{ reference: gp }],
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'vi', display: 'Tiếng Việt' }] }, preferred: true }],
    } as Resource);

    // Chronic patients are followed up every month or two, so their charts show a trend.
    const visits = 2 + Math.floor(rnd() * 3) + (i === 0 ? 4 : 0);
    const chronic = i % 3 === 0 ? DEMO_CONDITIONS[0] : i % 5 === 0 ? DEMO_CONDITIONS[1] : undefined;
    for (let v = 0; v < visits; v++) {
      const start = now - Math.floor((visits - v) * 40 + rnd() * 20) * day;
      const atHospital = rnd() < 0.3;
      const org = atHospital ? site.parent! : site.key;
      const encounterRef = add({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'Khám ngoại trú' },
        type: [{ text: atHospital ? 'Khám chuyên khoa' : 'Khám tại trạm y tế' }],
        subject: { reference: patientRef },
        participant: [{ individual: { reference: practitionerRefs.get(org)?.[0] ?? gp } }],
        period: { start: new Date(start).toISOString(), end: new Date(start + 30 * 60_000).toISOString() },
        serviceProvider: { reference: orgRef.get(org)! },
      } as Resource);
      // The chronic diagnosis is made once; later visits are follow-ups, sometimes with a new problem.
      const condition = v === 0 ? (chronic ?? pick(DEMO_CONDITIONS)) : rnd() < 0.35 ? pick(DEMO_CONDITIONS.filter((c) => c !== chronic)) : undefined;
      if (condition) {
        add({
          resourceType: 'Condition',
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Chẩn đoán' }] }],
          code: { coding: [{ system: ICD10, code: condition.code, display: condition.display }], text: condition.display },
          subject: { reference: patientRef },
          encounter: { reference: encounterRef },
          onsetDateTime: new Date(start).toISOString(),
          recordedDate: new Date(start).toISOString(),
        } as Resource);
      }
      const hypertensive = condition?.code === 'I10' || chronic?.code === 'I10';
      const effective = new Date(start + 10 * 60_000).toISOString();
      const obs = (code: string, display: string, category: object, value: object | undefined, extra: object = {}) =>
        add({
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [category] }],
          code: { coding: [{ system: LOINC, code, display }], text: display },
          subject: { reference: patientRef },
          encounter: { reference: encounterRef },
          effectiveDateTime: effective,
          ...(value ? { valueQuantity: value } : {}),
          ...extra,
        } as Resource);
      const sys = Math.round((hypertensive ? 145 : 115) + rnd() * 25);
      const dia = Math.round((hypertensive ? 90 : 70) + rnd() * 15);
      obs('85354-9', 'Huyết áp', VITALS, undefined, {
        component: [
          {
            code: { coding: [{ system: LOINC, code: '8480-6', display: 'Huyết áp tâm thu' }] },
            valueQuantity: { value: sys, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
          },
          {
            code: { coding: [{ system: LOINC, code: '8462-4', display: 'Huyết áp tâm trương' }] },
            valueQuantity: { value: dia, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
          },
        ],
      });
      obs('8867-4', 'Nhịp tim', VITALS, { value: Math.round(62 + rnd() * 30), unit: 'lần/phút', system: UCUM, code: '/min' });
      obs('8310-5', 'Nhiệt độ cơ thể', VITALS, { value: Math.round((36.3 + rnd() * 1.8) * 10) / 10, unit: '°C', system: UCUM, code: 'Cel' });
      obs('29463-7', 'Cân nặng', VITALS, { value: Math.round((42 + rnd() * 30) * 10) / 10, unit: 'kg', system: UCUM, code: 'kg' });
      obs('59408-5', 'SpO2', VITALS, { value: Math.round(93 + rnd() * 6), unit: '%', system: UCUM, code: '%' });
      if (chronic?.code === 'E11' || condition?.code === 'E11') {
        obs('15074-8', 'Glucose máu', LAB, { value: Math.round((6 + rnd() * 6) * 10) / 10, unit: 'mmol/L', system: UCUM, code: 'mmol/L' });
        obs('4548-4', 'HbA1c', LAB, { value: Math.round((6 + rnd() * 3) * 10) / 10, unit: '%', system: UCUM, code: '%' });
      }
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

/** Loads the demo network; returns what was created. */
export async function seedDemo(store: FhirStore, patientCount = 50): Promise<DemoSummary> {
  const bundle = buildDemoBundle(patientCount);
  const response = await store.system('demo data', 'seed').bundle(bundle, { returnMinimal: true });
  // A bulk load: the planner learns the store's new size (without it, reads of many rows are planned as single lookups).
  await store.refreshStatistics();
  const idsOf = (t: string) => bundle.entry!.flatMap((e, i) => (e.resource?.resourceType === t ? [response.entry![i].response!.location!.split('/')[1]] : []));
  const orgIds = idsOf('Organization');
  return {
    organizations: orgIds.length,
    practitioners: idsOf('Practitioner').length,
    patients: idsOf('Patient').length,
    total: bundle.entry!.length,
    ids: { organizations: Object.fromEntries(SITES.map((s, i) => [s.key, orgIds[i]])), practitioners: idsOf('Practitioner'), patients: idsOf('Patient') },
  };
}

/** True when the store holds no facility at all (a new database: the demo may be loaded). */
export async function isEmptyStore(store: FhirStore): Promise<boolean> {
  return (await store.system('demo: is this a new database', 'seed').searchOne('Organization', {})) === undefined;
}
