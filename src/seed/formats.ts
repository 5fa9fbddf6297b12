/**
 * Demo data for the national formats: what a facility sets up once before it can claim from
 * social insurance — its 5-character facility code, the department its remote visits bill to and
 * the BHXH number of its signing head; the BHYT service code of each remote-examination service;
 * a small formulary (Medication with the active-ingredient code, route code and price) for the
 * commune station that dispenses; and the occupation of the demo patients.
 *
 * Every value here is DEMO data in the official shapes, not a real facility's codes: the real
 * ones come from the BHXH portal and the MoH lists (docs/national-formats.md).
 * Rules: genuine platform work (a system repository, `demo data`, audited).
 */
import type { HealthcareService, Medication, Organization, Patient } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import {
  ACTIVE_INGREDIENT_SYSTEM,
  BHYT_SERVICE_SYSTEM,
  DEPARTMENT_EXT,
  FACILITY_CODE_SYSTEM,
  FORMULARY_OF_EXT,
  HEAD_INSURANCE_NO_EXT,
  OCCUPATION_EXT,
  ROUTE_EXT,
} from '../formats/model.ts';
import type { DemoSummary } from './demo.ts';

const REASON = 'demo data';
const DEMO_TAG = { system: 'https://fhir.cauyte.vn/CodeSystem/data-origin', code: 'demo', display: 'Dữ liệu minh họa' };

/** Demo facility codes for a database whose facilities have none yet (the demo register gives them: src/seed/demo.ts). */
const FACILITY_CODES: Record<string, string> = {
  bachmai: '01001',
  laocai: '10001',
  dienbien: '11001',
  batxat: '10010',
  simacai: '10011',
  muongnhe: '11010',
  tuachua: '11011',
};

/** Demo BHYT service codes of the demo services (catalogue codes → a DVKT-shaped code). */
const SERVICE_CODES: Record<string, string> = { 'kham-tu-xa-man-tinh': '02.1896', 'kham-tu-xa-tim-mach': '02.1897' };

const FORMULARY = [
  { reg: 'VD-12345-10', name: 'Amlodipin 5 mg', active: '40.495', route: '1.01', strength: { value: 5, unit: 'mg' }, form: 'Viên nén', price: 350 },
  { reg: 'VD-23456-15', name: 'Metformin 500 mg', active: '40.677', route: '1.01', strength: { value: 500, unit: 'mg' }, form: 'Viên nén', price: 420 },
];

export async function seedFormatsDemo(store: FhirStore, demo: DemoSummary): Promise<void> {
  const repo = store.system(REASON, 'formats');
  await repo.transaction(async (tx) => {
    for (const [key, id] of Object.entries(demo.ids.organizations)) {
      const org = await tx.read<Organization>('Organization', id);
      const existing = org.identifier?.find((i) => i.system === FACILITY_CODE_SYSTEM)?.value;
      const code = existing ?? FACILITY_CODES[key];
      if (!code || org.extension?.some((e) => e.url === DEPARTMENT_EXT)) continue;
      await tx.update<Organization>({
        ...org,
        identifier: existing ? org.identifier : [...(org.identifier ?? []), { system: FACILITY_CODE_SYSTEM, value: code }],
        extension: [
          ...(org.extension ?? []),
          { url: DEPARTMENT_EXT, valueString: 'K01' },
          { url: HEAD_INSURANCE_NO_EXT, valueString: `${code.slice(0, 2)}${code}999` },
        ],
      });
    }
    const services = await tx.search<HealthcareService>('HealthcareService', new URLSearchParams({ _count: '100' }));
    for (const s of services) {
      const local = s.type?.[0]?.coding?.[0]?.code ?? '';
      const bhyt = SERVICE_CODES[local];
      if (!bhyt || s.type?.[0]?.coding?.some((c) => c.system === BHYT_SERVICE_SYSTEM)) continue;
      await tx.update<HealthcareService>({
        ...s,
        type: [{ ...s.type![0], coding: [...(s.type![0].coding ?? []), { system: BHYT_SERVICE_SYSTEM, code: bhyt, display: s.name }] }, ...s.type!.slice(1)],
      });
    }
    const batxat = demo.ids.organizations.batxat;
    if (batxat) {
      await tx.createMany(
        FORMULARY.map((m): Medication => ({
          resourceType: 'Medication',
          meta: { tag: [DEMO_TAG] },
          code: {
            coding: [
              { system: 'https://fhir.cauyte.vn/sid/vn-drug-registration', code: m.reg, display: m.name },
              { system: ACTIVE_INGREDIENT_SYSTEM, code: m.active },
            ],
            text: m.name,
          },
          form: { text: m.form },
          ingredient: [
            { itemCodeableConcept: { text: m.name.split(' ')[0] }, strength: { numerator: { ...m.strength }, denominator: { value: 1, unit: 'viên' } } },
          ],
          extension: [
            { url: FORMULARY_OF_EXT, valueReference: { reference: `Organization/${batxat}` } },
            { url: ROUTE_EXT, valueCode: m.route },
            { url: 'https://fhir.cauyte.vn/StructureDefinition/service-price', valueMoney: { value: m.price, currency: 'VND' } },
          ],
        })),
      );
    }
    // Occupations (QĐ 34/2020 shape, 5 digits): demo values.
    for (const [i, id] of demo.ids.patients.entries()) {
      const p = await tx.read<Patient>('Patient', id);
      if (p.extension?.some((e) => e.url === OCCUPATION_EXT)) continue;
      await tx.update<Patient>({
        ...p,
        extension: [
          ...(p.extension ?? []),
          { url: OCCUPATION_EXT, valueCoding: { system: 'https://fhir.cauyte.vn/CodeSystem/occupation', code: i % 2 ? '00005' : '00003' } },
        ],
      });
    }
  });
}
