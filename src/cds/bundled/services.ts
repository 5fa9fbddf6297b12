/**
 * The bundled CDS Hooks services (run as their own process by server.ts): what each offers in
 * discovery and the cards it answers, from its prefetch and context only — it has no FHIR server
 * and no database.
 *   - cauyte-chart-review (patient-view): allergies to keep in mind, duplicate therapy among the
 *     medicines the patient takes;
 *   - cauyte-rx-safety-select / -sign (order-select, order-sign): allergy and duplicate-therapy
 *     checks of the draft prescription against the drug dictionary (the visits domain's checking
 *     code, src/visits/safety.ts, reused as it is);
 *   - cauyte-remote-visit-advice (appointment-book): is a remote visit appropriate — the
 *     Circular 30/2023 list (src/consult/eligibility.ts) and the pre-visit answers (red flags,
 *     how long the symptoms have lasted), from a booked or a proposed appointment (answers
 *     contained); in plain words when the user is the citizen (context.userId Patient/…);
 *   - cauyte-visit-closure (encounter-discharge): ICD-10 code present, follow-up before the
 *     medicines run out (discharge.ts).
 * Rules: pure functions of the request; every card says where its knowledge comes from.
 */
import type { AllergyIntolerance, Appointment, Bundle, MedicationRequest, MedicationStatement, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { prescribingIssues, type PrescribedItem } from '../../visits/safety.ts';
import { decide, shippedList } from '../../consult/eligibility.ts';
import { drugByAtc, ATC_SYSTEM } from '../../terminology/drugs.ts';
import { dischargeCards } from './discharge.ts';

export interface HookCall {
  hookInstance?: string;
  hook: string;
  context: Record<string, unknown>;
  prefetch?: Record<string, Resource | Bundle | null>;
}

export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic?: { system?: string; code: string; display: string } };
  suggestions?: {
    label: string;
    uuid: string;
    isRecommended?: boolean;
    actions: { type: string; description: string; resource?: Resource; resourceId?: string }[];
  }[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: { system?: string; code: string; display: string }[];
}

export interface ServiceDefinition {
  id: string;
  hook: string;
  title: string;
  description: string;
  prefetch: Record<string, string>;
  answer(call: HookCall, uuid: () => string): Card[];
}

const SAFETY_SOURCE = {
  label: 'Cầu Y Tế — Kiểm tra an toàn kê đơn (từ điển thuốc ATC)',
  url: 'https://github.com/cauyte/cauyte/blob/main/data/drugs/README.md',
};
const TT30_SOURCE = { label: 'Cầu Y Tế — Tư vấn khám từ xa (Thông tư 30/2023/TT-BYT)' };
const OVERRIDE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/cds-override-reason';
const OVERRIDE_REASONS = [
  { system: OVERRIDE_SYSTEM, code: 'tolerated-before', display: 'Người bệnh đã dùng thuốc này an toàn trước đây' },
  { system: OVERRIDE_SYSTEM, code: 'benefit-outweighs-risk', display: 'Lợi ích lớn hơn nguy cơ, sẽ theo dõi sát' },
  { system: OVERRIDE_SYSTEM, code: 'record-wrong', display: 'Ghi nhận dị ứng/thuốc trong hồ sơ không đúng' },
];

const PATIENT_DATA = {
  allergies: 'AllergyIntolerance?patient={{context.patientId}}',
  medications: 'MedicationRequest?patient={{context.patientId}}&status=active',
  statements: 'MedicationStatement?patient={{context.patientId}}&status=active',
};

function resources<T extends Resource>(b: Resource | Bundle | null | undefined, type: T['resourceType']): T[] {
  if (!b || b.resourceType !== 'Bundle') return [];
  return ((b as Bundle).entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

const conceptText = (c?: { text?: string; coding?: { display?: string; code?: string }[] }) => c?.text ?? c?.coding?.find((x) => x.display)?.display ?? '';

function drafts(call: HookCall): MedicationRequest[] {
  return resources<MedicationRequest>(call.context.draftOrders as Bundle | undefined, 'MedicationRequest');
}

function itemOf(m: MedicationRequest): PrescribedItem {
  const atc = m.medicationCodeableConcept?.coding?.find((c) => c.system === ATC_SYSTEM)?.code;
  return { name: conceptText(m.medicationCodeableConcept) || 'thuốc', ...(atc ? { atc } : {}) };
}

/** A suggestion only where the alternative is standard: a macrolide instead of a penicillin for a penicillin-allergic patient. */
function alternativeFor(item: PrescribedItem, patientId: string, uuid: () => string): Card['suggestions'] {
  const atc = item.atc ?? '';
  if (!atc.startsWith('J01C')) return [];
  const alt = drugByAtc('J01FA10');
  if (!alt) return [];
  return [
    {
      label: `Thay bằng ${alt.name} (${alt.groupName}) — bản nháp để bác sĩ xem và ký`,
      uuid: uuid(),
      actions: [
        { type: 'delete', description: `Bỏ ${item.name} khỏi đơn`, resourceId: 'MedicationRequest/draft' },
        {
          type: 'create',
          description: `Thêm ${alt.name} (bản nháp)`,
          resource: {
            resourceType: 'MedicationRequest',
            status: 'draft',
            intent: 'proposal',
            subject: { reference: `Patient/${patientId}` },
            medicationCodeableConcept: { text: alt.name, coding: [{ system: ATC_SYSTEM, code: alt.atc, display: alt.name }] },
            note: [{ text: `Gợi ý thay ${item.name} do người bệnh dị ứng nhóm penicilin` }],
          } satisfies MedicationRequest,
        },
      ],
    },
  ];
}

function prescribingCards(call: HookCall, uuid: () => string): Card[] {
  const patientId = String(call.context.patientId ?? '');
  const selected = new Set((call.context.selections as string[] | undefined) ?? []);
  const orders = drafts(call).filter((m) => !selected.size || selected.has(`MedicationRequest/${m.id}`));
  const items = orders.map(itemOf);
  const allergies = resources<AllergyIntolerance>(call.prefetch?.allergies, 'AllergyIntolerance');
  const current = [
    ...resources<MedicationRequest>(call.prefetch?.medications, 'MedicationRequest'),
    ...resources<MedicationStatement>(call.prefetch?.statements, 'MedicationStatement'),
  ];
  return prescribingIssues(items, allergies, current).map((issue) => ({
    uuid: uuid(),
    summary: (issue.kind === 'allergy' ? `Dị ứng: ${issue.drug} — người bệnh dị ứng ${issue.against}` : `Trùng thuốc: ${issue.drug} và ${issue.against}`).slice(
      0,
      140,
    ),
    detail: issue.text,
    indicator: issue.kind === 'allergy' ? (issue.severity === 'high' ? 'critical' : 'warning') : 'warning',
    source: { ...SAFETY_SOURCE, topic: { code: issue.kind, display: issue.kind === 'allergy' ? 'Dị ứng thuốc' : 'Trùng thuốc' } },
    ...(issue.kind === 'allergy' ? { suggestions: alternativeFor(items[issue.item], patientId, uuid), selectionBehavior: 'at-most-one' as const } : {}),
    overrideReasons: OVERRIDE_REASONS,
  }));
}

function chartCards(call: HookCall, uuid: () => string): Card[] {
  const allergies = resources<AllergyIntolerance>(call.prefetch?.allergies, 'AllergyIntolerance').filter(
    (a) => a.clinicalStatus?.coding?.[0]?.code !== 'resolved' && a.verificationStatus?.coding?.[0]?.code !== 'refuted',
  );
  const current = [
    ...resources<MedicationRequest>(call.prefetch?.medications, 'MedicationRequest'),
    ...resources<MedicationStatement>(call.prefetch?.statements, 'MedicationStatement'),
  ];
  const cards: Card[] = [];
  if (allergies.length)
    cards.push({
      uuid: uuid(),
      summary: `Lưu ý khi kê đơn: dị ứng ${allergies.map((a) => conceptText(a.code) || 'không rõ chất').join(', ')}`.slice(0, 140),
      detail: allergies
        .map(
          (a) =>
            `${conceptText(a.code)}${a.criticality === 'high' ? ' (nguy cơ cao)' : ''}${a.reaction?.[0]?.manifestation?.[0] ? `: ${conceptText(a.reaction[0].manifestation[0])}` : ''}`,
        )
        .join('; '),
      indicator: allergies.some((a) => a.criticality === 'high') ? 'warning' : 'info',
      source: SAFETY_SOURCE,
    });
  // Duplicate therapy among what the patient already takes: each medicine against the others.
  const seen = new Set<string>();
  current.forEach((m, i) => {
    const others = current.filter((_, j) => j > i);
    for (const issue of prescribingIssues([itemOf(m as MedicationRequest)], [], others)) {
      if (seen.has(issue.againstRef)) continue;
      seen.add(issue.againstRef);
      cards.push({
        uuid: uuid(),
        summary: `Có thể trùng thuốc đang dùng: ${issue.drug} và ${issue.against}`.slice(0, 140),
        detail: issue.text,
        indicator: 'warning',
        source: SAFETY_SOURCE,
        overrideReasons: OVERRIDE_REASONS,
      });
    }
  });
  if (!cards.length)
    cards.push({ uuid: uuid(), summary: 'Không thấy dị ứng hay trùng thuốc được ghi nhận trong dữ liệu được gửi', indicator: 'info', source: SAFETY_SOURCE });
  return cards;
}

function answer(qr: QuestionnaireResponse | undefined, linkId: string): string | boolean | undefined {
  const a = qr?.item?.find((i) => i.linkId === linkId)?.answer?.[0];
  return a?.valueBoolean ?? a?.valueString ?? a?.valueCoding?.code;
}

/** The citizen's version of the advice: what it means for them, in plain words. */
const PLAIN = {
  redFlags: {
    summary: 'Bạn có dấu hiệu nguy hiểm: đừng chờ khám từ xa',
    detail: 'Bạn trả lời có dấu hiệu cấp cứu (đau ngực dữ dội, khó thở nặng, yếu liệt, co giật, ngất). Hãy gọi 115 hoặc đến cơ sở y tế gần nhất ngay.',
  },
  fits: (what: string) => ({
    summary: `Bệnh này có thể khám từ xa: ${what}`,
    detail: `«${what}» có trong danh sách bệnh được khám từ xa của Bộ Y tế (Thông tư 30/2023). Bác sĩ sẽ quyết định sau khi khám; nếu cần, bác sĩ sẽ hẹn bạn khám trực tiếp.`,
  }),
  unconfirmed: (what: string) => ({
    summary: `Có thể khám từ xa: ${what} — cơ sở y tế sẽ xác nhận lại`,
    detail: `«${what}» có trong bản danh sách chưa được kiểm tra lại. Cán bộ y tế sẽ xác nhận trước buổi khám; nếu không phù hợp, bạn sẽ được hẹn khám trực tiếp.`,
  }),
  inPerson: {
    summary: 'Lý do khám này nên khám trực tiếp',
    detail: 'Lý do khám bạn chọn không có trong danh sách bệnh được khám từ xa của Bộ Y tế (Thông tư 30/2023). Bạn nên đặt lịch khám trực tiếp tại cơ sở y tế.',
  },
  short: ' Triệu chứng mới xuất hiện chưa tới 1 ngày: nếu nặng lên nhanh, hãy đi khám trực tiếp ngay.',
};

/** The pre-visit answers of an appointment: contained (a proposed one) or among the prefetched ones. */
function answersOf(appt: Appointment, prefetched: QuestionnaireResponse[]): QuestionnaireResponse | undefined {
  const refs = (appt.supportingInformation ?? []).map((s) => s.reference ?? '');
  const local = refs.find((r) => r.startsWith('#'));
  if (local) return appt.contained?.find((c): c is QuestionnaireResponse => c.resourceType === 'QuestionnaireResponse' && `#${c.id}` === local);
  if (appt.status === 'proposed') return undefined;
  const qrRef = refs.find((r) => r.startsWith('QuestionnaireResponse/'))?.split('/')[1];
  return prefetched.find((q) => q.id === qrRef) ?? (prefetched.length === 1 ? prefetched[0] : undefined);
}

function visitAdviceCards(call: HookCall, uuid: () => string): Card[] {
  const appts = resources<Appointment>(call.context.appointments as Bundle | undefined, 'Appointment');
  const answers = resources<QuestionnaireResponse>(call.prefetch?.answers, 'QuestionnaireResponse');
  const list = shippedList();
  const plain = String(call.context.userId ?? '').startsWith('Patient/');
  const cards: Card[] = [];
  for (const appt of appts) {
    const qr = answersOf(appt, answers);
    if (answer(qr, 'red-flags') === true && plain) {
      cards.push({ uuid: uuid(), ...PLAIN.redFlags, indicator: 'critical', source: TT30_SOURCE });
      continue;
    }
    if (answer(qr, 'red-flags') === true) {
      cards.push({
        uuid: uuid(),
        summary: 'Có dấu hiệu cấp cứu: không phù hợp khám từ xa',
        detail:
          'Người bệnh trả lời có dấu hiệu cấp cứu (đau ngực dữ dội, khó thở nặng, yếu liệt, co giật, ngất). Hướng dẫn đến cơ sở cấp cứu gần nhất hoặc gọi 115.',
        indicator: 'critical',
        source: TT30_SOURCE,
        overrideReasons: OVERRIDE_REASONS.slice(1, 2),
      });
      continue;
    }
    const code = appt.reasonCode?.flatMap((c) => c.coding ?? []).find((c) => /icd-?10/i.test(c.system ?? ''))?.code;
    if (!code) continue;
    const d = decide(list, code);
    const short = answer(qr, 'duration') === 'lt1d';
    if (plain) {
      const what = d.entry?.condition ?? appt.reasonCode?.[0]?.coding?.[0]?.display ?? code;
      const words = !d.eligible ? PLAIN.inPerson : d.confirmed ? PLAIN.fits(what) : PLAIN.unconfirmed(what);
      cards.push({
        uuid: uuid(),
        summary: words.summary.slice(0, 140),
        detail: `${words.detail}${short ? PLAIN.short : ''}`,
        indicator: !d.eligible || !d.confirmed || short ? 'warning' : 'info',
        source: TT30_SOURCE,
      });
      continue;
    }
    cards.push({
      uuid: uuid(),
      summary: (d.eligible
        ? d.confirmed
          ? `Phù hợp khám từ xa: ${d.entry?.condition ?? code} thuộc danh mục Thông tư 30`
          : `Cần xác nhận: ${d.entry?.condition ?? code} có trong bản danh mục chưa xác minh`
        : `Không thuộc danh mục khám từ xa: ${code} — nên khám trực tiếp`
      ).slice(0, 140),
      detail: `${d.reason}${short ? ' Triệu chứng mới dưới 1 ngày: cân nhắc khám trực tiếp nếu diễn biến nhanh.' : ''} (Danh mục phiên bản ${d.listVersion}.)`,
      indicator: !d.eligible ? 'warning' : !d.confirmed || short ? 'warning' : 'info',
      source: TT30_SOURCE,
    });
  }
  return cards;
}

export const BUNDLED_SERVICES: ServiceDefinition[] = [
  {
    id: 'cauyte-chart-review',
    hook: 'patient-view',
    title: 'Xem nhanh an toàn thuốc khi mở hồ sơ',
    description: 'Dị ứng cần lưu ý và thuốc đang dùng có thể trùng nhau, từ dữ liệu được gửi kèm.',
    prefetch: PATIENT_DATA,
    answer: chartCards,
  },
  {
    id: 'cauyte-rx-safety-select',
    hook: 'order-select',
    title: 'Kiểm tra an toàn khi chọn thuốc',
    description: 'Dị ứng và trùng thuốc của thuốc vừa chọn (từ điển thuốc ATC).',
    prefetch: PATIENT_DATA,
    answer: prescribingCards,
  },
  {
    id: 'cauyte-rx-safety-sign',
    hook: 'order-sign',
    title: 'Kiểm tra an toàn trước khi ký đơn',
    description: 'Dị ứng và trùng thuốc của cả đơn thuốc (từ điển thuốc ATC).',
    prefetch: PATIENT_DATA,
    answer: prescribingCards,
  },
  {
    id: 'cauyte-remote-visit-advice',
    hook: 'appointment-book',
    title: 'Tư vấn khám từ xa có phù hợp không',
    description: 'Danh mục bệnh được khám từ xa (Thông tư 30/2023/TT-BYT) và câu trả lời trước khi khám.',
    prefetch: { answers: 'QuestionnaireResponse?subject={{context.patientId}}&_sort=-authored&_count=5' },
    answer: visitAdviceCards,
  },
  {
    id: 'cauyte-visit-closure',
    hook: 'encounter-discharge',
    title: 'Kiểm tra khi kết thúc lần khám',
    description: 'Mã chẩn đoán ICD-10 đã có chưa; bệnh mạn tính: hẹn tái khám trước khi hết thuốc (theo số ngày thuốc trong đơn).',
    prefetch: {
      encounter: 'Encounter/{{context.encounterId}}',
      conditions: 'Condition?encounter={{context.encounterId}}',
      medications: 'MedicationRequest?encounter={{context.encounterId}}',
    },
    answer: dischargeCards,
  },
];
