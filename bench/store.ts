/**
 * A large, realistic search store for the latency benchmark, loaded through the repository's own
 * write path (index extraction + batched inserts) in chunks; validation is skipped because the
 * generator's output is known to be valid and loading 1M resources is not what is measured.
 */
import { randomUUID } from 'node:crypto';
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import type { FhirStorage } from '../src/fhir/storage.ts';
import { extractIndexRows } from '../src/fhir/searchparams.ts';
import { foldText } from '../src/fhir/normalize.ts';
import { CCCD_SYSTEM } from '../src/terminology/identifiers.ts';
import { makeCccd } from '../src/seed/demo.ts';

const FAMILY = [
  'Nguyễn',
  'Trần',
  'Lê',
  'Phạm',
  'Hoàng',
  'Huỳnh',
  'Phan',
  'Vũ',
  'Võ',
  'Đặng',
  'Bùi',
  'Đỗ',
  'Hồ',
  'Ngô',
  'Dương',
  'Lý',
  'Lò',
  'Giàng',
  'Vàng',
  'Hà',
];
const MIDDLE = ['Văn', 'Thị', 'Đức', 'Minh', 'Hữu', 'Quang', 'Ngọc', 'Thu', 'Thanh', 'Công', 'Xuân', 'Hoài'];
const GIVEN = [
  'An',
  'Bình',
  'Cường',
  'Dũng',
  'Đạt',
  'Hải',
  'Hùng',
  'Khánh',
  'Long',
  'Nam',
  'Phúc',
  'Sơn',
  'Tuấn',
  'Việt',
  'Hà',
  'Hương',
  'Lan',
  'Mai',
  'Ngân',
  'Phương',
  'Thảo',
  'Trang',
  'Yến',
  'Dung',
  'Quỳnh',
  'Tâm',
  'Linh',
  'Hạnh',
];
const VITALS = [
  { code: '8867-4', unit: '/min', lo: 55, hi: 120 },
  { code: '59408-5', unit: '%', lo: 88, hi: 100 },
  { code: '8310-5', unit: 'Cel', lo: 36, hi: 40 },
  { code: '29463-7', unit: 'kg', lo: 35, hi: 95 },
  { code: '15074-8', unit: 'mmol/L', lo: 4, hi: 15 },
  { code: '8480-6', unit: 'mm[Hg]', lo: 95, hi: 190 },
];
const START = Date.UTC(2024, 0, 1);
const SPAN = 2 * 365 * 86_400_000;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface StoreIds {
  cccd: string[];
  names: string[];
  patients: string[];
}

export async function loadSearchStore(
  storage: FhirStorage,
  patients: number,
  observations: number,
  log: (m: string) => void,
): Promise<{ rate: number; ids: StoreIds }> {
  const rnd = prng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const ids: StoreIds = { cccd: [], names: [], patients: [] };
  const CHUNK = 2_000;
  const t0 = performance.now();
  const lastUpdated = new Date();
  const insert = async (resources: Resource[]) => {
    const prepared = resources.map((r) => {
      const resource = { ...r, id: r.id ?? randomUUID(), meta: { versionId: '1', lastUpdated: lastUpdated.toISOString() } } as Resource;
      return { resource, rows: extractIndexRows(resource, storage.registry.forType(resource.resourceType)) };
    });
    await storage.db.transaction((tx) => storage.insertPrepared(tx, prepared));
  };
  for (let i = 0; i < patients; i += CHUNK) {
    const batch: Patient[] = [];
    for (let j = i; j < Math.min(patients, i + CHUNK); j++) {
      const gender = rnd() < 0.5 ? 'male' : 'female';
      const year = 1930 + Math.floor(rnd() * 90);
      const family = pick(FAMILY);
      const given = [pick(MIDDLE), pick(GIVEN)];
      const cccd = makeCccd(pick([1, 8, 11, 15, 79, 48, 92]), year, gender, 100000 + (j % 900000));
      const id = randomUUID();
      batch.push({
        resourceType: 'Patient',
        id,
        identifier: [{ system: CCCD_SYSTEM, value: cccd }],
        name: [{ family, given, text: `${family} ${given.join(' ')}` }],
        gender,
        birthDate: `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`,
        address: [{ city: 'Xã Bát Xát', state: 'Tỉnh Lào Cai', country: 'VN' }],
      } as Patient);
      ids.patients.push(id);
      if (j % 50 === 0) {
        ids.cccd.push(cccd);
        ids.names.push(foldText(`${family} ${given[0]} ${given[1].slice(0, 2)}`));
      }
    }
    await insert(batch);
  }
  log(`patients loaded (${patients})`);
  for (let i = 0; i < observations; i += CHUNK) {
    const batch: Observation[] = [];
    for (let j = i; j < Math.min(observations, i + CHUNK); j++) {
      const v = pick(VITALS);
      batch.push({
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: v.code }] },
        subject: { reference: `Patient/${ids.patients[Math.floor(rnd() * ids.patients.length)]}` },
        effectiveDateTime: new Date(START + Math.floor(rnd() * SPAN)).toISOString(),
        valueQuantity: { value: Math.round((v.lo + rnd() * (v.hi - v.lo)) * 10) / 10, unit: v.unit, system: 'http://unitsofmeasure.org', code: v.unit },
      } as Observation);
    }
    await insert(batch);
    if ((i / CHUNK) % 50 === 49) log(`observations loaded: ${i + CHUNK}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rate: (patients + observations) / seconds, ids };
}

/** The searches a clinician runs all day: a name, an identifier, a vital sign in a month. */
export function searchQueries(ids: StoreIds): Record<string, (i: number) => string> {
  return {
    'Patient?name=<family middle gi…>': (i) => `Patient?name=${encodeURIComponent(ids.names[i % ids.names.length])}&_count=20`,
    'Patient?identifier=<cccd>': (i) => `Patient?identifier=${encodeURIComponent(`${CCCD_SYSTEM}|${ids.cccd[i % ids.cccd.length]}`)}`,
    'Observation?code=…&date=<month>': (i) => {
      const month = new Date(START + ((i * 7919) % 23) * 31 * 86_400_000).toISOString().slice(0, 7);
      return `Observation?code=${encodeURIComponent(`http://loinc.org|${VITALS[i % VITALS.length].code}`)}&date=${month}&_count=20`;
    },
    'Observation?patient=<id>&_sort=-date': (i) => `Observation?patient=${ids.patients[(i * 104729) % ids.patients.length]}&_sort=-date&_count=50`,
  };
}
