/**
 * The bundled encounter-discharge service (cauyte-visit-closure), answered when a visit note is
 * signed: two checks a doctor can verify on the note itself.
 *   - the diagnosis has an ICD-10 code (the record and the insurance claim, QĐ 130 XML, need the
 *     main diagnosis coded): a warning when no Condition of the encounter carries one;
 *   - a chronic disease (hypertension I10–I15, diabetes E10–E14, COPD/asthma J44–J45) needs a
 *     re-examination before the medicines run out: the prescription's supply days (the shortest
 *     one) give the date; accepting the suggestion writes a DRAFT follow-up ServiceRequest that the
 *     doctor signs; medicines without supply days are named (the date cannot be computed).
 * Rules: a pure function of the request (prefetch: the Encounter, its Conditions and
 * MedicationRequests); dates in Vietnam time, dd/mm/yyyy; every card names its source.
 */
import type { Bundle, Condition, Encounter, MedicationRequest, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { Card, HookCall } from './services.ts';

const SOURCE = { label: 'Cầu Y Tế — Kiểm tra khi kết thúc lần khám (mã ICD-10, hẹn tái khám theo số ngày thuốc)' };
const ICD10 = /icd-?10/i;
const DAY_MS = 86_400_000;
/** Days before the medicines run out that the follow-up is proposed for. */
const MARGIN_DAYS = 2;
/** Without a prescription, a chronic disease is seen again after this many days (Cầu Y Tế's rule, not a regulation). */
const DEFAULT_FOLLOW_UP_DAYS = 30;

export const CHRONIC: { codes: RegExp; label: string }[] = [
  { codes: /^I1[0-5]/, label: 'Tăng huyết áp' },
  { codes: /^E1[0-4]/, label: 'Đái tháo đường' },
  { codes: /^J4[45]/, label: 'Bệnh phổi tắc nghẽn mạn tính / hen phế quản' },
];

const OVERRIDE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/cds-override-reason';
const FOLLOW_UP_OVERRIDES = [
  { system: OVERRIDE_SYSTEM, code: 'follow-up-written', display: 'Đã hẹn tái khám trong phiếu khám' },
  { system: OVERRIDE_SYSTEM, code: 'followed-elsewhere', display: 'Người bệnh được theo dõi ở cơ sở khác' },
];

function resources<T extends Resource>(b: Resource | Bundle | null | undefined, type: T['resourceType']): T[] {
  if (!b) return [];
  if (b.resourceType === type) return [b as T];
  if (b.resourceType !== 'Bundle') return [];
  return ((b as Bundle).entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

/** dd/mm/yyyy in Vietnam time. */
export function vnDate(ms: number): string {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(ms)).split('-');
  return `${d}/${m}/${y}`;
}

const medName = (m: MedicationRequest) => m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.find((c) => c.display)?.display ?? 'thuốc';

function supplyDays(m: MedicationRequest): number | undefined {
  const d = m.dispenseRequest?.expectedSupplyDuration;
  if (typeof d?.value !== 'number' || d.value <= 0) return undefined;
  const unit = d.code ?? d.unit ?? 'd';
  return unit === 'wk' ? d.value * 7 : unit === 'mo' ? d.value * 30 : d.value;
}

function followUpSuggestion(patientId: string, encounterId: string, code: { code: string; display?: string }, label: string, at: number, uuid: () => string) {
  return {
    label: `Tạo lịch tái khám ngày ${vnDate(at)} (bản nháp để bác sĩ ký)`,
    uuid: uuid(),
    isRecommended: true,
    actions: [
      {
        type: 'create',
        description: `Yêu cầu tái khám ${label} ngày ${vnDate(at)} (bản nháp)`,
        resource: {
          resourceType: 'ServiceRequest',
          status: 'draft',
          intent: 'proposal',
          subject: { reference: `Patient/${patientId}` },
          ...(encounterId ? { encounter: { reference: `Encounter/${encounterId}` } } : {}),
          code: { text: `Tái khám — ${label}` },
          reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: code.code, ...(code.display ? { display: code.display } : {}) }] }],
          occurrenceDateTime: new Date(at).toISOString(),
          note: [{ text: 'Gợi ý hẹn tái khám trước khi hết thuốc (dịch vụ kiểm tra khi kết thúc lần khám)' }],
        } satisfies ServiceRequest,
      },
    ],
  };
}

export function dischargeCards(call: HookCall, uuid: () => string): Card[] {
  const patientId = String(call.context.patientId ?? '');
  const encounterId = String(call.context.encounterId ?? '');
  const encounter = resources<Encounter>(call.prefetch?.encounter, 'Encounter')[0];
  const conditions = resources<Condition>(call.prefetch?.conditions, 'Condition').filter(
    (c) => c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error' && c.verificationStatus?.coding?.[0]?.code !== 'refuted',
  );
  const meds = resources<MedicationRequest>(call.prefetch?.medications, 'MedicationRequest').filter(
    (m) => m.status !== 'cancelled' && m.status !== 'entered-in-error' && m.status !== 'draft',
  );
  const codes = conditions.flatMap((c) =>
    (c.code?.coding ?? []).filter((x) => ICD10.test(x.system ?? '') && x.code).map((x) => ({ code: x.code!, display: x.display })),
  );
  const cards: Card[] = [];
  if (!codes.length)
    cards.push({
      uuid: uuid(),
      summary: 'Lần khám chưa có mã chẩn đoán ICD-10',
      detail:
        'Chẩn đoán chính cần mã ICD-10: hồ sơ bệnh án và bảng kê thanh toán BHYT (XML theo QĐ 130) đều yêu cầu. Bổ sung mã trước khi gửi hồ sơ thanh toán.',
      indicator: 'warning',
      source: { ...SOURCE, topic: { code: 'missing-icd10', display: 'Thiếu mã chẩn đoán' } },
    });
  const chronic = codes.flatMap((c) => CHRONIC.filter((k) => k.codes.test(c.code)).map((k) => ({ ...c, label: k.label })))[0];
  if (!chronic) return cards;
  const ended = Date.parse(encounter?.period?.end ?? encounter?.period?.start ?? '');
  const from = Number.isFinite(ended) ? ended : undefined;
  const withDays = meds.map((m) => ({ m, days: supplyDays(m) }));
  const missing = withDays.filter((x) => x.days === undefined).map((x) => medName(x.m));
  const known = withDays.flatMap((x) => (x.days === undefined ? [] : [x.days]));
  if (missing.length)
    cards.push({
      uuid: uuid(),
      summary: `Chưa ghi số ngày dùng thuốc: ${missing.join(', ')}`.slice(0, 140),
      detail: `${chronic.label} (${chronic.code}) là bệnh mạn tính: cần biết đơn đủ bao nhiêu ngày để hẹn tái khám trước khi hết thuốc.`,
      indicator: 'warning',
      source: { ...SOURCE, topic: { code: 'supply-days', display: 'Số ngày dùng thuốc' } },
    });
  if (from === undefined) return cards;
  if (known.length) {
    const days = Math.min(...known);
    const runsOut = from + days * DAY_MS;
    const at = Math.max(from + DAY_MS, runsOut - MARGIN_DAYS * DAY_MS);
    cards.push({
      uuid: uuid(),
      summary: `Hẹn tái khám trước khi hết thuốc: đơn đủ ${days} ngày (đến ${vnDate(runsOut)})`,
      detail: `${chronic.label} (${chronic.code}) là bệnh mạn tính: người bệnh cần được khám lại trước ngày ${vnDate(runsOut)} để không bị gián đoạn điều trị. Gợi ý hẹn ngày ${vnDate(at)}.`,
      indicator: 'info',
      source: { ...SOURCE, topic: { code: 'follow-up', display: 'Hẹn tái khám' } },
      suggestions: [followUpSuggestion(patientId, encounterId, chronic, chronic.label, at, uuid)],
      selectionBehavior: 'at-most-one',
      overrideReasons: FOLLOW_UP_OVERRIDES,
    });
  } else if (!meds.length) {
    const at = from + DEFAULT_FOLLOW_UP_DAYS * DAY_MS;
    cards.push({
      uuid: uuid(),
      summary: `Bệnh mạn tính không có đơn thuốc lần này: hẹn theo dõi ngày ${vnDate(at)}?`,
      detail: `${chronic.label} (${chronic.code}) cần được theo dõi định kỳ. Cầu Y Tế gợi ý khám lại sau ${DEFAULT_FOLLOW_UP_DAYS} ngày nếu bác sĩ chưa hẹn.`,
      indicator: 'info',
      source: { ...SOURCE, topic: { code: 'follow-up', display: 'Hẹn tái khám' } },
      suggestions: [followUpSuggestion(patientId, encounterId, chronic, chronic.label, at, uuid)],
      selectionBehavior: 'at-most-one',
      overrideReasons: FOLLOW_UP_OVERRIDES,
    });
  }
  return cards;
}
