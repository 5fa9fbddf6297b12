/**
 * What a facility offers for remote examination (khám bệnh từ xa), as FHIR, and the use cases
 * around it:
 *   HealthcareService — the service, its price and whether social health insurance (BHYT) covers it;
 *   Schedule / Slot   — a practitioner's bookable times for that service;
 *   Questionnaire     — the short pre-visit questions every booking answers.
 * Price and coverage are extensions on HealthcareService (R4 has no element for them).
 *
 * Rules: the catalogue (services, free slots, the questionnaire) is directory data any signed-in
 * person may see: the platform reads it (a system repository, audited with its reason). Publishing
 * goes through the actor's `visits.schedule` repository, for their own facility only (clinicians:
 * their own schedule); the demo publishes with the platform's repository (`addService`, `openSlots`).
 * Slots are created free; only booking (booking.ts) changes their status.
 */
import type {
  HealthcareService,
  Practitioner,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import { badRequest } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { InputError } from '../http/input.ts';
import { searchAll } from './all-pages.ts';
import type { Answers, CreateServiceRequest, FreeSlot, PublishSlotsRequest, ServiceInfo, SlotsPublished } from './contract.ts';
import {
  BHYT_COVERED_EXT,
  CATEGORY_QUERY,
  idOf,
  localInstant,
  personName,
  PRE_VISIT_ID,
  PRE_VISIT_URL,
  PRICE_EXT,
  SERVICE_CATEGORY,
  SERVICE_TYPE_SYSTEM,
} from './model.ts';

/** How soon a slot may start to be offered for booking (booking itself refuses only slots already begun). */
export const BOOKING_LEAD_MS = 10 * 60_000;

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

export function healthcareService(input: {
  code: string;
  name: string;
  organizationId: string;
  organizationName: string;
  specialty: string;
  price: number;
  bhytCovered: boolean;
  comment?: string;
}): HealthcareService {
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
      {
        linkId: 'red-flags',
        type: 'boolean',
        required: true,
        text: 'Hiện có dấu hiệu cấp cứu không: đau ngực dữ dội, khó thở nặng, yếu liệt nửa người, co giật, ngất? (Any emergency sign now?)',
      },
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

// ------------------------------------------------------------------ use cases

/** A new service of a facility (any repository allowed to write HealthcareService: the actor's, or the demo's). */
export async function addService(repo: Repository, input: CreateServiceRequest & { organizationId: string }): Promise<ServiceInfo> {
  const org = await repo.tryRead<{ resourceType: 'Organization'; name?: string }>('Organization', input.organizationId);
  if (!org) throw badRequest(`Không có cơ sở ${input.organizationId}`);
  return serviceInfo(await repo.create(healthcareService({ ...input, organizationName: org.name ?? '' })));
}

/**
 * Publishes bookable times: one Slot every `minutes` from `start` to `end` (Việt Nam time) on each of
 * `days` days from `from`, in one unit of work. Idempotent: a time that already has a slot is skipped.
 */
export async function openSlots(repo: Repository, input: PublishSlotsRequest): Promise<SlotsPublished> {
  if (input.start >= input.end) throw badRequest('Giờ bắt đầu phải trước giờ kết thúc (start must be before end)');
  return repo.transaction(async (tx) => {
    const service = await tx.tryRead<HealthcareService>('HealthcareService', input.serviceId);
    if (!service) throw badRequest(`Không có dịch vụ ${input.serviceId} (unknown service)`);
    const practitioner = await tx.tryRead<Practitioner>('Practitioner', input.practitionerId);
    if (!practitioner) throw badRequest(`Không có bác sĩ ${input.practitionerId}`);
    const info = serviceInfo(service);
    const actorRefs = [`Practitioner/${input.practitionerId}`, `HealthcareService/${input.serviceId}`];
    const existing = await tx.search<Schedule>('Schedule', { actor: actorRefs[0], _count: '200' });
    let schedule = existing.find((s) => s.actor.some((a) => a.reference === actorRefs[1]));
    schedule ??= await tx.create<Schedule>({
      resourceType: 'Schedule',
      active: true,
      serviceCategory: [{ coding: [SERVICE_CATEGORY] }],
      serviceType: service.type,
      actor: [
        { reference: actorRefs[0], display: personName(practitioner) },
        { reference: actorRefs[1], display: info.name },
      ],
      comment: `Lịch khám từ xa: ${info.name}`,
    });
    const taken = new Set(
      (await searchAll<Slot>(tx, 'Slot', { schedule: `Schedule/${schedule.id}`, start: `ge${localInstant(input.from, '00:00')}` })).map((s) =>
        new Date(s.start).getTime(),
      ),
    );
    const slots: Slot[] = [];
    const first = new Date(`${input.from}T00:00:00Z`);
    const step = input.minutes * 60_000;
    for (let d = 0; d < input.days; d++) {
      const day = new Date(first.getTime() + d * 86_400_000).toISOString().slice(0, 10);
      const end = new Date(localInstant(day, input.end)).getTime();
      for (let t = new Date(localInstant(day, input.start)).getTime(); t + step <= end; t += step) {
        if (taken.has(t)) continue;
        slots.push({
          resourceType: 'Slot',
          schedule: { reference: `Schedule/${schedule.id}` },
          status: 'free',
          start: new Date(t).toISOString(),
          end: new Date(t + step).toISOString(),
          serviceCategory: [{ coding: [SERVICE_CATEGORY] }],
          serviceType: service.type,
        });
      }
    }
    await tx.createMany(slots);
    return { scheduleId: schedule.id!, created: slots.length };
  });
}

export class Catalog {
  private questionnaire?: Questionnaire;

  constructor(private readonly store: FhirStore) {}

  /** The catalogue is directory data for every signed-in person: the platform reads it. */
  private directory(): Repository {
    return this.store.system('remote-examination catalogue', 'visits');
  }

  /** The pre-visit questionnaire: made the first time it is needed, under a fixed id (so only once). */
  async preVisit(): Promise<Questionnaire> {
    if (this.questionnaire) return this.questionnaire;
    const repo = this.store.system('pre-visit questionnaire', 'visits');
    let q = await repo.tryRead<Questionnaire>('Questionnaire', PRE_VISIT_ID);
    if (!q) {
      try {
        q = await repo.update<Questionnaire>({ ...preVisitQuestionnaire(), id: PRE_VISIT_ID });
      } catch {
        q = await repo.read<Questionnaire>('Questionnaire', PRE_VISIT_ID); // made meanwhile by another request
      }
    }
    this.questionnaire = q;
    return q;
  }

  async services(): Promise<ServiceInfo[]> {
    return (await this.directory().search<HealthcareService>('HealthcareService', { 'service-category': CATEGORY_QUERY, active: 'true', _count: '200' })).map(
      serviceInfo,
    );
  }

  /**
   * Free slots of a service, with the practitioner each belongs to: those starting at least
   * BOOKING_LEAD_MS from now (time to answer the pre-visit questions and for the clinic to see the
   * booking; a slot offered seconds before it starts would be refused as past on submit).
   */
  async freeSlots(serviceId: string, days = 14): Promise<FreeSlot[]> {
    const from = new Date(Date.now() + BOOKING_LEAD_MS);
    const until = new Date(Date.now() + days * 86_400_000);
    return this.directory().transaction(async (tx) => {
      const out: FreeSlot[] = [];
      for (const s of await tx.search<Schedule>('Schedule', { actor: `HealthcareService/${serviceId}`, active: 'true', _count: '200' })) {
        const pr = s.actor.find((a) => a.reference?.startsWith('Practitioner/'));
        const slots = await searchAll<Slot>(
          tx,
          'Slot',
          { schedule: `Schedule/${s.id}`, status: 'free', start: [`gt${from.toISOString()}`, `lt${until.toISOString()}`], _sort: 'start' },
          5000,
        );
        for (const slot of slots)
          out.push({ id: slot.id!, start: slot.start, end: slot.end, practitioner: { id: idOf(pr, 'Practitioner') ?? '', name: pr?.display ?? '' } });
      }
      return out.sort((a, b) => a.start.localeCompare(b.start));
    });
  }

  /** A new service with a repository the caller chose (the demo: the platform's). */
  addService(repo: Repository, input: CreateServiceRequest & { organizationId: string }): Promise<ServiceInfo> {
    return addService(repo, input);
  }

  /** Slots published with a repository the caller chose (the demo's top-up: the platform's). */
  openSlots(repo: Repository, input: PublishSlotsRequest): Promise<SlotsPublished> {
    return openSlots(repo, input);
  }

  /** A new service of the actor's own facility. */
  async createService(ctx: AccessContext, input: CreateServiceRequest): Promise<ServiceInfo> {
    const orgId = ctx.actor.organizationId;
    if (!orgId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    return addService(this.store.as(ctx, 'visits.schedule'), { ...input, organizationId: orgId });
  }

  /** Slots of a service of the actor's facility; a clinician publishes only their own. */
  async publishSlots(ctx: AccessContext, input: PublishSlotsRequest): Promise<SlotsPublished> {
    const repo = this.store.as(ctx, 'visits.schedule');
    const service = await repo.tryRead<HealthcareService>('HealthcareService', input.serviceId);
    if (!service) throw badRequest(`Không có dịch vụ ${input.serviceId} (unknown service)`);
    if (serviceInfo(service).organizationId !== ctx.actor.organizationId)
      throw new AccessDenied('Chỉ xếp lịch cho dịch vụ của cơ sở mình (only for your facility’s services)');
    if (ctx.actor.role !== 'facility_admin' && ctx.actor.role !== 'coordinator' && ctx.actor.practitionerId !== input.practitionerId) {
      throw new AccessDenied('Bác sĩ chỉ xếp lịch của chính mình (clinicians publish their own schedule)');
    }
    return openSlots(repo, input);
  }
}
