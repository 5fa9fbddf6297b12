/**
 * Demo data for early warning (CAUYTE_DEMO and the browser test): Lào Cai's disease-control centre
 * (Trung tâm Kiểm soát bệnh tật tỉnh Lào Cai) watching province 15, and 28 weeks of coded
 * diagnoses in five of its communes (the page shows the last 10, each with a full baseline) — dengue at 1–4 cases a week with an injected outbreak (about
 * 4×) in Xã Bát Xát in the last two weeks, hand-foot-mouth disease flat. Deterministic for a given
 * date. Written by the system through the store, so the derived tables fill as for real writes.
 */
import type { Condition, Organization, Patient, Resource } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { poisson } from './generate.ts';
import { prng } from '../seed/prng.ts';
import { addWeeks, weekOf } from './weeks.ts';

export const DEMO_PROVINCE = 15;
const COMMUNES: [number, string, number][] = [
  // code, name, dengue weekly mean
  [2683, 'Xã Bát Xát', 2.5],
  [2680, 'Xã Hợp Thành', 1.5],
  [2686, 'Xã A Mú Sung', 1],
  [2671, 'Phường Cam Đường', 3],
  [2647, 'Phường Lào Cai', 3.5],
];
const WEEKS = 28;
const FAMILY = ['Nguyễn', 'Hoàng', 'Lò', 'Vàng', 'Giàng', 'Lý', 'Sùng', 'Phạm'];
const GIVEN = ['Thị Mai', 'Văn Páo', 'Thị Dua', 'Văn Sình', 'A Chư', 'Thị Lan', 'Văn Tùng', 'Thị Hoa'];

export interface SurveillanceDemo {
  centreId: string;
  conditions: number;
}

export async function seedSurveillanceDemo(store: FhirStore, now = new Date()): Promise<SurveillanceDemo> {
  const repo = store.system('surveillance demo data', 'surveillance');
  const rnd = prng(2026_17);
  const thisWeek = weekOf(now);
  return repo.transaction(async (tx) => {
    const centre = await tx.create<Organization>({
      resourceType: 'Organization',
      active: true,
      name: 'Trung tâm Kiểm soát bệnh tật tỉnh Lào Cai',
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'govt', display: 'Government' }] }],
    });
    await tx.sql.query('INSERT INTO surveillance_authority (org_id, province_code) VALUES ($1, $2) ON CONFLICT (org_id) DO NOTHING', [
      centre.id,
      DEMO_PROVINCE,
    ]);
    const conditions: Resource[] = [];
    for (const [code, name, mean] of COMMUNES) {
      const people: string[] = [];
      for (let i = 0; i < 30; i++) {
        const pt = await tx.create<Patient>({
          resourceType: 'Patient',
          active: true,
          name: [{ family: FAMILY[i % FAMILY.length], given: [GIVEN[(i * 3 + code) % GIVEN.length]] }],
          gender: i % 2 ? 'male' : 'female',
          birthDate: `${1950 + Math.floor(rnd() * 70)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`,
          address: [{ use: 'home', city: name, state: 'Tỉnh Lào Cai', country: 'VN' }],
        });
        people.push(pt.id!);
      }
      for (let w = WEEKS - 1; w >= 0; w--) {
        const week = addWeeks(thisWeek, -w);
        const outbreak = code === 2683 && w <= 1;
        const day = (d: number) => `${week}T1${d % 8}:00:00+07:00`;
        const dengue = Math.min(people.length, outbreak ? 10 + Math.floor(rnd() * 3) : poisson(rnd, mean));
        const hfmd = poisson(rnd, 1);
        for (let k = 0; k < dengue + hfmd; k++) {
          const c: Condition = {
            resourceType: 'Condition',
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
            verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
            subject: { reference: `Patient/${people[(k + w * 7) % people.length]}` },
            code: {
              coding: [
                k < dengue
                  ? { system: 'http://hl7.org/fhir/sid/icd-10', code: 'A91', display: 'Sốt xuất huyết Dengue' }
                  : { system: 'http://hl7.org/fhir/sid/icd-10', code: 'B08.4', display: 'Bệnh tay chân miệng' },
              ],
            },
            onsetDateTime: day(k),
            recordedDate: day(k),
          };
          conditions.push(await tx.create(c));
        }
      }
    }
    return { centreId: centre.id!, conditions: conditions.length };
  });
}
