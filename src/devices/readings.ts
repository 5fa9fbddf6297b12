/**
 * Device readings → FHIR Observations with LOINC codes and UCUM units, and the checks that keep
 * impossible values out of the record (they go to quarantine with a reason instead).
 *
 * Payload (MQTT topic cauyte/devices/<deviceId>/readings, or HTTP) — see docs/devices.md:
 *   { "msgId": "…", "time": "2026-11-25T08:30:00+07:00", "patient": "<id, shared devices only>",
 *     "readings": [ { "type": "bp", "systolic": 135, "diastolic": 85, "unit": "mm[Hg]" }, … ] }
 */
import type { Observation } from '@medplum/fhirtypes';
import { z } from 'zod';
import { parseDateRange } from '../fhir/dates.ts';
import { isWellFormedText } from '../http/input.ts';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
const VITALS = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Dấu hiệu sinh tồn' };
const LAB = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Xét nghiệm' };

export const READING_TYPES = ['bp', 'hr', 'spo2', 'glucose', 'temp', 'weight'] as const;
export type ReadingType = (typeof READING_TYPES)[number];

/** The single-value readings: LOINC code, accepted UCUM units, and the physiologically possible range. */
const SINGLE: Record<
  Exclude<ReadingType, 'bp' | 'glucose'>,
  { code: string; display: string; units: Record<string, [number, number]>; unitDisplay: Record<string, string> }
> = {
  hr: { code: '8867-4', display: 'Nhịp tim', units: { '/min': [20, 250] }, unitDisplay: { '/min': 'lần/phút' } },
  spo2: { code: '59408-5', display: 'SpO2', units: { '%': [50, 100] }, unitDisplay: { '%': '%' } },
  temp: { code: '8310-5', display: 'Nhiệt độ cơ thể', units: { Cel: [30, 45] }, unitDisplay: { Cel: '°C' } },
  weight: { code: '29463-7', display: 'Cân nặng', units: { kg: [0.3, 350] }, unitDisplay: { kg: 'kg' } },
};
/** Glucose: mmol/L → 15074-8, mg/dL → 2339-0. */
const GLUCOSE: Record<string, { code: string; range: [number, number] }> = {
  'mmol/L': { code: '15074-8', range: [0.5, 45] },
  'mg/dL': { code: '2339-0', range: [10, 800] },
};

export const readingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bp'), systolic: z.number(), diastolic: z.number(), unit: z.string(), pulse: z.number().optional() }).strict(),
  z.object({ type: z.enum(['hr', 'spo2', 'glucose', 'temp', 'weight']), value: z.number(), unit: z.string() }).strict(),
]);
export type Reading = z.infer<typeof readingSchema>;

export const payloadSchema = z
  .object({
    msgId: z
      .string()
      .min(1)
      .max(100)
      // NUL and broken UTF-16 (lone surrogates) cannot be stored as text: such a message id is malformed.
      .refine((s) => !s.includes('\u0000') && isWellFormedText(s), 'must be text without NUL or broken characters'),
    time: z.string().min(4).max(40),
    patient: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/)
      .optional(),
    token: z.string().max(200).optional(),
    readings: z.array(z.unknown()).min(1).max(50),
  })
  .strict();
export type Payload = z.infer<typeof payloadSchema>;

/** What a reading means for thresholds: one or two numbers per metric. */
export interface Measured {
  metric: 'bp' | 'hr' | 'spo2' | 'glucose' | 'temp' | 'weight';
  values: Record<string, number>; // bp: systolic/diastolic; glucose: mmol (normalised); others: value
}

/** Checks one reading; returns the problems, or the Observation content and what was measured. */
export function checkReading(
  raw: unknown,
): { problems: string[] } | { observation: Omit<Observation, 'subject' | 'effectiveDateTime' | 'device'>; measured: Measured } {
  const parsed = readingSchema.safeParse(raw);
  if (!parsed.success)
    return {
      problems: [`Chỉ số không đúng dạng (malformed reading): ${parsed.error.issues.map((i) => `${i.path.join('.') || 'reading'} ${i.message}`).join('; ')}`],
    };
  const r = parsed.data;
  const out = (ok: boolean, msg: string) => (ok ? [] : [msg]);
  if (r.type === 'bp') {
    const problems = [
      ...out(r.unit === 'mm[Hg]', `Huyết áp phải đo bằng mm[Hg], nhận "${r.unit}" (wrong unit)`),
      ...out(r.systolic >= 50 && r.systolic <= 300, `Huyết áp tâm thu ${r.systolic} không thể có (impossible systolic)`),
      ...out(r.diastolic >= 20 && r.diastolic <= 200, `Huyết áp tâm trương ${r.diastolic} không thể có (impossible diastolic)`),
      ...out(r.diastolic < r.systolic, `Tâm trương ${r.diastolic} phải thấp hơn tâm thu ${r.systolic} (diastolic must be below systolic)`),
    ];
    if (problems.length) return { problems };
    const q = (v: number) => ({ value: v, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
    return {
      observation: {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [VITALS] }],
        code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }], text: 'Huyết áp' },
        component: [
          { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }], text: 'Tâm thu' }, valueQuantity: q(r.systolic) },
          { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }], text: 'Tâm trương' }, valueQuantity: q(r.diastolic) },
        ],
      },
      measured: { metric: 'bp', values: { systolic: r.systolic, diastolic: r.diastolic } },
    };
  }
  if (r.type === 'glucose') {
    const g = Object.hasOwn(GLUCOSE, r.unit) ? GLUCOSE[r.unit] : undefined; // never a prototype member
    if (!g) return { problems: [`Đường huyết phải đo bằng mmol/L hoặc mg/dL, nhận "${r.unit}" (wrong unit)`] };
    if (r.value < g.range[0] || r.value > g.range[1]) return { problems: [`Đường huyết ${r.value} ${r.unit} không thể có (impossible glucose)`] };
    return {
      observation: {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [LAB] }],
        code: { coding: [{ system: LOINC, code: g.code }], text: 'Glucose máu' },
        valueQuantity: { value: r.value, unit: r.unit, system: UCUM, code: r.unit },
      },
      measured: { metric: 'glucose', values: { mmol: r.unit === 'mmol/L' ? r.value : Math.round((r.value / 18.016) * 10) / 10 } },
    };
  }
  const def = SINGLE[r.type];
  const range = Object.hasOwn(def.units, r.unit) ? def.units[r.unit] : undefined;
  if (!range) return { problems: [`${def.display} phải đo bằng ${Object.keys(def.units).join(' hoặc ')}, nhận "${r.unit}" (wrong unit)`] };
  if (r.value < range[0] || r.value > range[1])
    return { problems: [`${def.display} ${r.value} ${r.unit} không thể có (impossible value, expected ${range[0]}–${range[1]})`] };
  return {
    observation: {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [VITALS] }],
      code: { coding: [{ system: LOINC, code: def.code }], text: def.display },
      valueQuantity: { value: r.value, unit: def.unitDisplay[r.unit], system: UCUM, code: r.unit },
    },
    measured: { metric: r.type, values: { value: r.value } },
  };
}

/** The reading's own time: must be a real instant with a zone, not in the future (5 min clock skew allowed). */
export function checkTime(time: string): string | undefined {
  const r = parseDateRange(time);
  if (!r || !/T\d{2}:\d{2}/.test(time) || !/(Z|[+-]\d{2}:\d{2})$/.test(time))
    return `Thời điểm đo "${time}" phải có ngày, giờ và múi giờ (time needs date, time and zone)`;
  if (r.low.getTime() > Date.now() + 5 * 60_000) return `Thời điểm đo ${time} ở tương lai (time is in the future)`;
  if (r.low.getTime() < Date.UTC(2000, 0, 1)) return `Thời điểm đo ${time} quá xa (time is before 2000)`;
  return undefined;
}

const SINGLE_CODES = new Map<string, Reading['type']>([
  ['8867-4', 'hr'],
  ['59408-5', 'spo2'],
  ['8310-5', 'temp'],
  ['29463-7', 'weight'],
  ['15074-8', 'glucose'],
  ['2339-0', 'glucose'],
]);

/** A FHIR Observation with one of our LOINC codes (HTTP ingest) → the reading it reports. */
export function readingFromObservation(o: Observation): Reading | undefined {
  const code = o.code?.coding?.find((c) => c.system === LOINC)?.code;
  const q = o.valueQuantity;
  const unit = q?.system === UCUM ? q.code : undefined;
  if (code === '85354-9') {
    const comp = (c: string) => o.component?.find((x) => x.code?.coding?.some((y) => y.code === c))?.valueQuantity;
    const s = comp('8480-6');
    const d = comp('8462-4');
    return s?.value !== undefined && d?.value !== undefined ? { type: 'bp', systolic: s.value, diastolic: d.value, unit: s.code ?? '' } : undefined;
  }
  const type = SINGLE_CODES.get(code ?? '');
  return type && q?.value !== undefined ? ({ type, value: q.value, unit: unit ?? '' } as Reading) : undefined;
}
