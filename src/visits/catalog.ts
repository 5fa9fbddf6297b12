/**
 * What a facility offers for remote examination (khám bệnh từ xa), as FHIR:
 *   HealthcareService — the service, its price and whether social health insurance (BHYT) covers it;
 *   Schedule / Slot   — a practitioner's bookable times for that service;
 *   Questionnaire     — the short pre-visit questions every booking answers.
 * Price and coverage are extensions on HealthcareService (R4 has no element for them).
 */
import type { HealthcareService, Questionnaire, QuestionnaireItem, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import { InputError } from '../http/input.ts';

export const SERVICE_CATEGORY = { system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'remote-examination', display: 'Khám bệnh từ xa' };
export const SERVICE_TYPE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/visit-service';
export const PRICE_EXT = 'https://fhir.cauyte.vn/StructureDefinition/service-price';
export const BHYT_COVERED_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-covered';
export const BHYT_CARD_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-card';
export const PAYER_EXT = 'https://fhir.cauyte.vn/StructureDefinition/payer';
export const BOOKING_SYSTEM = 'https://fhir.cauyte.vn/sid/visit-booking';
export const PRE_VISIT_URL = 'https://fhir.cauyte.vn/Questionnaire/pre-visit';

export interface ServiceInfo {
  id: string;
  code: string;
  name: string;
  organizationId: string;
  organizationName?: string;
  specialty?: string;
  /** In đồng (VND). */
  price: number;
  bhytCovered: boolean;
}

export function serviceInfo(h: HealthcareService): ServiceInfo {
  const price = h.extension?.find((e) => e.url === PRICE_EXT)?.valueMoney?.value ?? 0;
  return {
    id: h.id!,
    code: h.type?.[0]?.coding?.[0]?.code ?? h.id!,
    name: h.name ?? h.type?.[0]?.text ?? 'Khám từ xa',
    organizationId: h.providedBy?.reference?.split('/')[1] ?? '',
    organizationName: h.providedBy?.display,
    specialty: h.specialty?.[0]?.text,
    price,
    bhytCovered: h.extension?.find((e) => e.url === BHYT_COVERED_EXT)?.valueBoolean === true,
  };
}

export function healthcareService(input: { code: string; name: string; organizationId: string; organizationName: string; specialty: string; price: number; bhytCovered: boolean; comment?: string }): HealthcareService {
  return {
    resourceType: 'HealthcareService',
    active: true,
    providedBy: { reference: `Organization/${input.organizationId}`, display: input.organizationName },
    category: [{ coding: [SERVICE_CATEGORY], text: SERVICE_CATEGORY.display }],
    type: [{ coding: [{ system: SERVICE_TYPE_SYSTEM, code: input.code, display: input.name }], text: input.name }],
    specialty: [{ text: input.specialty }],
    name: input.name,
    comment: input.comment,
    extension: [
      { url: PRICE_EXT, valueMoney: { value: input.price, currency: 'VND' } },
      { url: BHYT_COVERED_EXT, valueBoolean: input.bhytCovered },
    ],
  };
}

/** The pre-visit questions. The first is a safety gate: an emergency is not for a video visit. */
export function preVisitQuestionnaire(): Questionnaire {
  const coding = (code: string, display: string) => ({ valueCoding: { system: 'https://fhir.cauyte.vn/CodeSystem/symptom-duration', code, display } });
  return {
    resourceType: 'Questionnaire',
    url: PRE_VISIT_URL,
    version: '1',
    name: 'PreVisit',
    title: 'Câu hỏi trước khi khám từ xa',
    status: 'active',
    subjectType: ['Patient'],
    item: [
      { linkId: 'red-flags', type: 'boolean', required: true, text: 'Hiện có dấu hiệu cấp cứu không: đau ngực dữ dội, khó thở nặng, yếu liệt nửa người, co giật, ngất? (Any emergency sign now?)' },
      {
        linkId: 'duration',
        type: 'choice',
        required: true,
        text: 'Triệu chứng đã kéo dài bao lâu? (How long have you had the symptoms?)',
        answerOption: [coding('lt1d', 'Dưới 1 ngày'), coding('1-7d', '1–7 ngày'), coding('1-4w', '1–4 tuần'), coding('gt1m', 'Trên 1 tháng')],
      },
      { linkId: 'home-bp', type: 'string', text: 'Huyết áp tự đo gần nhất, ví dụ 150/95 (nếu có) (last home blood pressure, if any)' },
      { linkId: 'medications', type: 'string', text: 'Thuốc đang dùng (nếu có) (current medicines)' },
      { linkId: 'allergies', type: 'string', text: 'Dị ứng thuốc (nếu có) (drug allergies)' },
    ],
  };
}

export type Answers = Record<string, string | boolean>;

/** Checks the answers against the questionnaire and builds the QuestionnaireResponse items. */
export function answerItems(q: Questionnaire, answers: Answers): QuestionnaireResponseItem[] {
  const known = new Set((q.item ?? []).map((i) => i.linkId));
  for (const k of Object.keys(answers)) if (!known.has(k)) throw new InputError(`answers.${k}: không có câu hỏi này (no such question)`);
  const out: QuestionnaireResponseItem[] = [];
  for (const item of q.item ?? []) {
    const v = answers[item.linkId];
    const empty = v === undefined || (typeof v === 'string' && v.trim() === '');
    if (empty) {
      if (item.required) throw new InputError(`answers.${item.linkId}: cần trả lời "${shortText(item)}" (required)`);
      continue;
    }
    out.push({ linkId: item.linkId, text: item.text, answer: [answerFor(item, v)] });
  }
  return out;
}

function answerFor(item: QuestionnaireItem, v: string | boolean) {
  const bad = (why: string) => new InputError(`answers.${item.linkId}: ${why}`);
  if (item.type === 'boolean') {
    if (typeof v !== 'boolean') throw bad('cần trả lời có hoặc không (must be true or false)');
    return { valueBoolean: v };
  }
  if (typeof v !== 'string') throw bad('cần một chuỗi (must be text)');
  const text = v.trim();
  if (item.type === 'choice') {
    const option = item.answerOption?.find((o) => o.valueCoding?.code === text);
    if (!option) throw bad(`"${text}" không phải một lựa chọn (not one of the options)`);
    return { valueCoding: option.valueCoding };
  }
  if (text.length > 500) throw bad('quá dài, tối đa 500 ký tự (at most 500 characters)');
  if (item.linkId === 'home-bp' && !/^\d{2,3}\s*\/\s*\d{2,3}$/.test(text)) throw bad('ghi theo dạng 150/95 (write it as systolic/diastolic, e.g. 150/95)');
  return { valueString: text };
}

function shortText(item: QuestionnaireItem): string {
  return (item.text ?? item.linkId).split(' (')[0];
}

/** One answer as display text. */
export function answerText(r: QuestionnaireResponse | undefined, linkId: string): string | boolean | undefined {
  const a = r?.item?.find((i) => i.linkId === linkId)?.answer?.[0];
  return a?.valueBoolean ?? a?.valueCoding?.display ?? a?.valueString;
}
